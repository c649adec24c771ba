//! Catching a service's panic, with the host it ran on and the simulated time.
//!
//! tokio catches a panic inside a task and turns it into an error of that task's join handle,
//! which nobody may look at. So while a wire run steps, a panic hook records the first panic
//! of this thread (message, source location, simulated time) instead of printing it as
//! pipesim's own internal error, and the harness stops the run after the step.
//!
//! The host is known for code polled inside a [`Scoped`] future: every host's software, and
//! tasks started with [`crate::spawn`]. A task started with `tokio::task::spawn_local`
//! directly is polled outside any scope, and its panic names no host.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A panic caught during a wire run.
#[derive(Clone, Debug)]
pub(crate) struct Caught {
    pub(crate) host: Option<String>,
    pub(crate) message: String,
    pub(crate) wire_ns: Option<u64>,
}

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static CURRENT_HOST: RefCell<Option<Rc<str>>> = const { RefCell::new(None) };
    static CAUGHT: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// Installs the hook once per process; it passes panics outside wire runs to the hook that
/// was there before.
fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CAPTURING.with(Cell::get) {
                return previous(info);
            }
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line()));
            let host = CURRENT_HOST.with(|h| h.borrow().as_deref().map(str::to_string));
            let wire_ns = turmoil::sim_elapsed().map(|d| d.as_nanos() as u64);
            CAUGHT.with(|c| {
                c.borrow_mut().get_or_insert(Caught {
                    host,
                    message: format!("panicked: {text}{}", at.unwrap_or_default()),
                    wire_ns,
                });
            });
        }));
    });
}

/// While alive, panics on this thread are recorded for the harness, not printed.
pub(crate) struct Capture(());

impl Capture {
    pub(crate) fn start() -> Self {
        install();
        CAPTURING.with(|c| c.set(true));
        CAUGHT.with(|c| c.borrow_mut().take());
        Self(())
    }

    /// The first panic since the capture started, if any.
    pub(crate) fn take(&self) -> Option<Caught> {
        CAUGHT.with(|c| c.borrow_mut().take())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.set(false));
        CURRENT_HOST.with(|h| h.borrow_mut().take());
    }
}

/// A future polled as part of `host` (for panic attribution).
pub(crate) struct Scoped<F> {
    host: Rc<str>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Scoped<F> {
    pub(crate) fn new(host: Rc<str>, inner: F) -> Self {
        Self { host, inner: Box::pin(inner) }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let host = Rc::clone(&self.host);
        let outer = CURRENT_HOST.with(|h| h.borrow_mut().replace(host));
        let out = self.inner.as_mut().poll(cx);
        CURRENT_HOST.with(|h| *h.borrow_mut() = outer);
        out
    }
}

/// The host whose code is being polled, if known.
pub(crate) fn current_host() -> Option<Rc<str>> {
    CURRENT_HOST.with(|h| h.borrow().clone())
}

/// Spawns `task` on the current host's runtime, attributed to the host (a panic in it names
/// the host). Use it instead of `tokio::task::spawn_local` in services.
pub fn spawn<F>(task: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match current_host() {
        Some(host) => tokio::task::spawn_local(Scoped::new(host, task)),
        None => tokio::task::spawn_local(task),
    }
}
