//! Progress reporting: the library says what it is doing, the binary decides
//! whether and how to draw it.
//!
//! Every long step reports through a [`Progress`] passed in by the caller.
//! `dcx` draws bars on a terminal and nothing otherwise; tests and libraries
//! pass [`NoProgress`].

/// A long-running step whose progress is reported in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Downloading (or reading) a package; total = its size when known.
    Download,
    /// Unpacking a package; counts compressed bytes consumed.
    Unpack,
    /// Hashing files or a package; counts bytes hashed.
    Hash,
    /// Packing a tree into a package; counts file bytes packed.
    Pack,
}

impl Stage {
    /// A short lower-case label, e.g. for a progress bar.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Download => "download",
            Stage::Unpack => "unpack",
            Stage::Hash => "hash",
            Stage::Pack => "pack",
        }
    }
}

/// Receives progress events. Calls for one stage arrive as `start`, any
/// number of `advance`, then `finish`; stages do not overlap.
///
/// Implementations must be cheap: `advance` is called for every buffer
/// (tens of kilobytes), possibly from a worker thread.
pub trait Progress: Sync {
    /// A stage begins; `total` is its size in bytes when known.
    fn start(&self, stage: Stage, total: Option<u64>);
    /// `bytes` more bytes of the current stage are done.
    fn advance(&self, stage: Stage, bytes: u64);
    /// The stage ended (successfully or not).
    fn finish(&self, stage: Stage);
    /// Another process holds `lock` (its pid when known): the work waits
    /// until it is released. Called at most once per lock, before waiting.
    fn waiting(&self, lock: &std::path::Path, holder: Option<u32>) {
        let _ = (lock, holder);
    }
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Stage, _: Option<u64>) {}
    fn advance(&self, _: Stage, _: u64) {}
    fn finish(&self, _: Stage) {}
}

/// Calls [`Progress::finish`] when dropped, so a stage is closed on every
/// early return.
pub(crate) struct StageGuard<'a> {
    progress: &'a dyn Progress,
    stage: Stage,
}

impl<'a> StageGuard<'a> {
    pub(crate) fn start(progress: &'a dyn Progress, stage: Stage, total: Option<u64>) -> Self {
        progress.start(stage, total);
        Self { progress, stage }
    }

    pub(crate) fn advance(&self, bytes: u64) {
        self.progress.advance(self.stage, bytes);
    }
}

impl Drop for StageGuard<'_> {
    fn drop(&mut self) {
        self.progress.finish(self.stage);
    }
}

/// A reader that reports every read to a stage.
pub(crate) struct ProgressReader<'a, R> {
    inner: R,
    guard: &'a StageGuard<'a>,
}

impl<'a, R> ProgressReader<'a, R> {
    pub(crate) fn new(inner: R, guard: &'a StageGuard<'a>) -> Self {
        Self { inner, guard }
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: std::io::Read> std::io::Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.guard.advance(n as u64);
        Ok(n)
    }
}
