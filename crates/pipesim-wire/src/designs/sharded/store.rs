//! A store host: the shards `i` with `i mod instances` = its index, each a queue with its own
//! writers, over one CPU and one write-ahead log, as a Postgres server under the DES's
//! `sharded` kind.
//!
//! A writer takes up to `batch_max` queued events as one transaction: CPU (`store.insert`
//! per row, on `store.cores` cores shared by every shard of the host, first come first
//! served), then its commit record in the log ([`Wal`]), and once the flush that carries it
//! is durable its rows are visible (in queue order) and the router is answered. A crash loses
//! the queues and every transaction not yet durable; the router sees its connections close
//! and fails those events back to their producers, which retry.

use super::StoreSpec;
use super::proto::{Done, Forward};
use super::wal::Wal;
use crate::{HostCtx, read_frame, write_frame};
use pipesim_engine::StreamRng;
use pipesim_workload::EventMeta;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use tokio::sync::{Notify, Semaphore, mpsc};
use turmoil::net::TcpListener;

/// Most events queued on one store over all its shards; beyond it a forward is refused at
/// once (the router fails it back to its producer, which retries after its backoff). It
/// bounds a store's memory when its writers cannot keep up.
pub(super) const MAX_QUEUED_PER_STORE: usize = 1 << 20;

/// An event waiting for a writer, with the way back to the router's connection.
struct Job {
    ev: EventMeta,
    id: u64,
    reply: mpsc::UnboundedSender<Done>,
}

/// One shard's queue.
#[derive(Default)]
struct ShardQueue {
    jobs: RefCell<VecDeque<Job>>,
    ready: Notify,
}

/// What the store's tasks share.
struct Store {
    ctx: HostCtx,
    spec: Rc<StoreSpec>,
    /// This store's shards, by `shard / instances`.
    shards: Vec<ShardQueue>,
    queued: Cell<usize>,
    cpu: Semaphore,
    /// `store/<index>`: the stream the DES's Postgres server of this index draws CPU from.
    cpu_rng: Rc<RefCell<StreamRng>>,
    wal: Wal,
}

/// The store's software.
pub(super) async fn serve(ctx: HostCtx, spec: Rc<StoreSpec>) -> turmoil::Result {
    // Listening first: the router's connections wait in the backlog during recovery instead
    // of being refused.
    let listener = TcpListener::bind(("0.0.0.0", super::STORE_PORT)).await?;
    let (wal, recovery) = Wal::open(ctx.clone(), spec.wal_bandwidth_bytes_per_s).await?;
    if ctx.restarts > 0 {
        ctx.count("recoveries", 1);
        ctx.count("recovered_frames", recovery.frames);
        ctx.count("truncated_wal_bytes", recovery.truncated_bytes);
    }
    let index = ctx.index_in_role as u32;
    let local = (index..spec.max_shards).step_by(spec.instances as usize).count();
    let store = Rc::new(Store {
        shards: (0..local).map(|_| ShardQueue::default()).collect(),
        queued: Cell::new(0),
        cpu: Semaphore::new(spec.cores as usize),
        cpu_rng: ctx.rng(&format!("store/{index}")),
        wal,
        ctx,
        spec,
    });
    for local in 0..store.shards.len() {
        for _ in 0..store.spec.writers_per_shard {
            crate::spawn(write(Rc::clone(&store), local));
        }
    }
    let accepting = async {
        loop {
            let (stream, _) = listener.accept().await?;
            crate::spawn(connection(Rc::clone(&store), stream));
        }
    };
    tokio::select! {
        biased;
        r = store.wal.run() => r.map_err(Into::into),
        r = accepting => r,
    }
}

/// One connection from the router: forwards in, answers out.
async fn connection(store: Rc<Store>, stream: turmoil::net::TcpStream) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Done>();
    crate::spawn(async move {
        let mut body = Vec::with_capacity(16);
        while let Some(done) = rx.recv().await {
            body.clear();
            done.encode(&mut body);
            if write_frame(&mut writer, &body).await.is_err() {
                break;
            }
        }
    });
    let mut buf = Vec::new();
    while let Ok(true) = read_frame(&mut reader, &mut buf).await {
        let Some(f) = Forward::decode(&buf) else { break };
        store.enqueue(f, &tx);
    }
}

impl Store {
    /// Queues a forward on its shard, or refuses it at once.
    fn enqueue(&self, f: Forward, reply: &mpsc::UnboundedSender<Done>) {
        let instances = self.spec.instances;
        let mine = f.shard % instances == self.ctx.index_in_role as u32;
        let local = (f.shard / instances) as usize;
        if !mine || local >= self.shards.len() {
            self.ctx.count("misrouted", 1);
            let _ = reply.send(Done { id: f.id, committed: false });
            return;
        }
        if self.queued.get() >= MAX_QUEUED_PER_STORE {
            self.ctx.count("refused_queue_full", 1);
            let _ = reply.send(Done { id: f.id, committed: false });
            return;
        }
        self.queued.set(self.queued.get() + 1);
        let shard = &self.shards[local];
        shard.jobs.borrow_mut().push_back(Job { ev: f.ev, id: f.id, reply: reply.clone() });
        shard.ready.notify_one();
    }

    /// The next transaction of shard `local`: up to `batch_max` queued events, oldest first.
    async fn next_batch(&self, local: usize, batch: &mut Vec<Job>) {
        let shard = &self.shards[local];
        loop {
            {
                let mut jobs = shard.jobs.borrow_mut();
                if !jobs.is_empty() {
                    let take = jobs.len().min(self.spec.batch_max as usize);
                    batch.extend(jobs.drain(..take));
                    self.queued.set(self.queued.get() - take);
                    return;
                }
            }
            shard.ready.notified().await;
        }
    }

    /// The CPU time of a transaction of `rows` rows: one `store.insert` draw per row.
    fn cpu_ns(&self, rows: usize) -> u64 {
        let mut rng = self.cpu_rng.borrow_mut();
        (0..rows).fold(0u64, |sum, _| sum.saturating_add(self.spec.insert.sample(&mut rng)))
    }
}

/// A writer of shard `local`: one transaction at a time.
async fn write(store: Rc<Store>, local: usize) {
    let shard = (local as u32) * store.spec.instances + store.ctx.index_in_role as u32;
    let mut batch = Vec::new();
    loop {
        store.next_batch(local, &mut batch).await;
        let cpu_ns = store.cpu_ns(batch.len());
        {
            let _core = store.cpu.acquire().await.expect("the semaphore is never closed");
            store.ctx.clock.sleep(cpu_ns).await;
        }
        let mut record = Vec::with_capacity(8 + batch.len() * crate::EVENT_BYTES);
        record.extend_from_slice(&shard.to_le_bytes());
        record.extend_from_slice(&(batch.len() as u32).to_le_bytes());
        let mut charged = 0u64;
        for job in &batch {
            crate::encode_event(&job.ev, &mut record);
            charged += u64::from(job.ev.size_bytes) + store.spec.wal_row_bytes;
        }
        if !store.wal.commit(record, charged).await {
            return;
        }
        store.ctx.count("transactions", 1);
        store.ctx.count("rows", batch.len() as u64);
        for job in batch.drain(..) {
            store.ctx.probe.visible(&job.ev);
            // The router's connection may be gone: it fails the event back itself.
            let _ = job.reply.send(Done { id: job.id, committed: true });
        }
    }
}
