//! Consumers of a [`KafkaLog`]: a Flink-like stream processor and a projection worker.
//!
//! Both fetch the same way ([`ConsumerParams`]): a partition's fetch returns as soon as its high
//! watermark passes the consumer's position (Kafka's long poll), after one network delay, with at
//! most `max_poll_records`; the consumer does not fetch again while that many fetched records
//! wait (a slow consumer's position stays near what it processed, which is what lets
//! compaction overtake it).
//!
//! **[`StreamProcessor`]** (Flink-like). One subtask per partition (or `parallelism` subtasks,
//! partition `p` on subtask `p mod parallelism`), each a single server costing `record_cost` per
//! record, taking up to `max_poll_records` records at a time. Every `checkpoint_interval` the
//! sources inject a barrier behind the records they have fetched; a subtask that has processed
//! everything before its barrier stops (aligned checkpoint: the keyed exchange downstream blocks
//! the inputs whose barrier arrived) until every subtask has reached its barrier; then the
//! snapshot is written asynchronously (`snapshot`) while processing resumes, and the checkpoint
//! completes. With an `exactly_once` sink (two-phase commit, as Flink's transactional Kafka
//! sink) the output of records between two barriers becomes visible only when the later
//! checkpoint's transaction commits (`commit`, which needs every log partition to have a leader);
//! with `at_least_once` output is visible as soon as a record is processed. A crash stops
//! everything; `restart_delay` after the process is back it resumes from the last completed
//! checkpoint's offsets, so at-least-once output since then is emitted again (duplicates), and
//! exactly-once output, never committed, is redone once. A pause freezes it (what it was
//! computing finishes as much later, what others did meanwhile is taken at the end); a
//! checkpoint storm triggers checkpoints at another interval for a while.
//!
//! **[`Projection`]** (a consumer that UPSERTs into a view). `workers` workers share the
//! partitions (`p mod workers`); a worker runs one statement at a time for up to `batch` records
//! of one partition, taking `upsert` plus `upsert_per_row` per row; rows are visible when it
//! returns. A statement fails with probability `fail` (or always while the store is down); a
//! poison record (a fraction `poison` of records, chosen by identity so a replay meets the same
//! ones) fails every time, alone in its statement. A failed statement is retried after a backoff
//! (`backoff` doubling up to `backoff_max`) up to `retries` times, then its records go to a
//! dead-letter queue: either blocking (`retry = "blocking"`, a synchronous loop: the worker
//! waits, order is kept, its partitions stall) or deferred (`retry = "deferred"`, a retry topic:
//! the worker goes on, so a retried record can land after a later one of its key). Offsets are
//! committed every `auto_commit`; after a crash a worker resumes from the committed offsets, so
//! what it applied since is applied again (duplicates downstream). A pause freezes the workers
//! (a statement under way finishes in the database meanwhile); a checkpoint storm commits the
//! offsets at another interval for a while.
//!
//! **Layout.** `params.rs` holds the scenario tables and their validation; `fetch.rs` the
//! fetching both consumers share; `consumer.rs` the [`LogConsumer`] calls a design makes on
//! either consumer; `processor.rs` the stream processor's state, records, crashes and pauses;
//! `checkpoint.rs` its barriers, alignment, snapshots and sink commits; `projection.rs` the
//! projection's state, offset commits, crashes and pauses; `statements.rs` its workers'
//! statements, retries and dead letters; `zipf.rs` a Zipf helper the read path's cache is
//! checked against.
//!
//! [`KafkaLog`]: crate::kafka::KafkaLog

mod checkpoint;
mod consumer;
mod fetch;
mod params;
mod processor;
mod projection;
mod rewind;
mod statements;
#[cfg(test)]
mod tests;
mod zipf;

pub use consumer::LogConsumer;
pub use params::{
    ConsumerParams, ProjectionParams, ProjectionSpec, RetryMode, Sink, StreamParams, StreamSpec,
};
pub use processor::{StreamEvent, StreamProcessor, StreamStats};
pub use projection::{DeadLetter, Projection, ProjectionEvent, ProjectionStats};
pub use zipf::zipf_probabilities;
