//! A trace replayed as a run's arrivals: the records before the end of arrivals, with a check
//! that the file still gives what the load-time scan saw.

use super::{TraceError, TraceReader, TraceRecord, TraceSpec};
use pipesim_engine::SimTime;
use std::fs::File;
use std::io::BufReader;

/// The arrivals of a trace, for [`crate::ArrivalGen`].
pub(crate) struct TraceArrivals {
    reader: Option<TraceReader<BufReader<File>>>,
    spec: TraceSpec,
    end: SimTime,
    produced: u64,
    /// Why the arrivals ended early (the file changed or vanished after the scan).
    failure: Option<TraceError>,
}

impl TraceArrivals {
    pub(crate) fn new(spec: &TraceSpec, key_count: u32, payload_bytes: u32, end: SimTime) -> Self {
        let (reader, failure) = match TraceReader::open(
            &spec.path,
            spec.format,
            spec.on_error,
            key_count,
            payload_bytes,
        ) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        Self { reader, spec: spec.clone(), end, produced: 0, failure }
    }

    /// Why the arrivals ended before the scan said they would, if they did.
    pub(crate) fn failure(&self) -> Option<&TraceError> {
        self.failure.as_ref()
    }

    /// The next record before the end of arrivals. Errors, and a trace that no longer matches
    /// the load-time scan, end the arrivals and are recorded in the spec.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<TraceRecord> {
        let reader = self.reader.as_mut()?;
        match reader.next_record() {
            Ok(Some(r)) if r.time_ns < self.end => {
                self.produced += 1;
                Some(r)
            }
            Ok(_) => {
                let s = &self.spec.summary;
                if self.produced != s.events || reader.skipped() != s.skipped {
                    self.failure = Some(TraceError {
                        file: self.spec.shown(),
                        line: None,
                        message: format!(
                            "the trace changed while the simulation read it: {} events and {} skipped lines, where the check before the run found {} and {}",
                            self.produced,
                            reader.skipped(),
                            s.events,
                            s.skipped
                        ),
                    });
                }
                self.reader = None;
                None
            }
            Err(e) => {
                self.failure = Some(e);
                self.reader = None;
                None
            }
        }
    }
}
