//! Reproducible gzip, compressed on several threads.
//!
//! The output is a single gzip member whose bytes depend only on the input
//! bytes, never on the machine, the clock or the number of threads:
//!
//! - header `1f 8b 08 00 00000000 00 ff`: deflate, no flags (so no file
//!   name or comment), mtime 0, no extra flags, OS 255 ("unknown");
//! - the input is cut into [`BLOCK_SIZE`] blocks at fixed offsets; each block
//!   is raw-deflated by a fresh zlib-rs compressor at [`LEVEL`], primed with
//!   the last 32 KiB of the previous block as its dictionary (so matches
//!   still reach back across the cut), and ended with a sync flush (an empty
//!   stored block, which byte-aligns it); the last block ends the stream;
//! - trailer: CRC-32 and length mod 2³² of the input, little-endian.
//!
//! This is pigz's scheme. Because a block's output is a pure function of
//! (dictionary, block, is-last), the workers can run in any order and the
//! concatenation is the same for 1 thread or 64 (a test guards it). A
//! compressor is never reused between blocks: with zlib-rs, a `reset`
//! compressor's output still depended on the blocks it had compressed
//! before.
//!
//! The backend is pinned to zlib-rs through flate2's `zlib-rs` feature (see
//! the workspace `Cargo.toml`); a golden digest test in `pack` fails if a
//! backend or level change ever alters the bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// The deflate level: zlib's default, the same as `gzip -6`.
pub(crate) const LEVEL: u32 = 6;

/// Uncompressed bytes per independently compressed block.
pub(crate) const BLOCK_SIZE: usize = 1 << 20;

/// How far back deflate can refer: the dictionary carried between blocks.
const WINDOW: usize = 32 * 1024;

/// The fixed gzip header (see the module documentation).
const HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];

struct Job {
    index: usize,
    dictionary: Vec<u8>,
    data: Vec<u8>,
    last: bool,
}

struct Done {
    index: usize,
    compressed: io::Result<Vec<u8>>,
    crc: Crc,
    last: bool,
}

/// Gzips everything `produce` writes into `out`, compressing on `threads`
/// worker threads, and returns what `produce` returned and `out`.
///
/// `produce` writes from the calling thread; a failure of `out` surfaces
/// as an error from `produce`'s writes and is returned in its place.
pub(crate) fn compress<W, T>(
    out: W,
    threads: NonZeroUsize,
    produce: impl FnOnce(&mut dyn Write) -> io::Result<T>,
) -> io::Result<(T, W)>
where
    W: Write + Send,
{
    std::thread::scope(|scope| {
        // Room for every worker to hold one block and queue one more: enough
        // to keep them busy, small enough to bound memory to a few blocks.
        let (jobs, job_queue) = sync_channel::<Job>(threads.get() * 2);
        let job_queue = Arc::new(Mutex::new(job_queue));
        let (done, finished) = channel::<Done>();
        for _ in 0..threads.get() {
            let job_queue = Arc::clone(&job_queue);
            let done = done.clone();
            scope.spawn(move || worker(&job_queue, &done));
        }
        // Only the workers may keep these alive: when they all stop, a
        // blocked send fails instead of waiting forever.
        drop((job_queue, done));
        let writer = scope.spawn(move || write_in_order(out, &finished));

        let mut blocks = BlockWriter::new(jobs);
        let produced = produce(&mut blocks).and_then(|value| blocks.finish().map(|()| value));
        // Dropping the sender lets idle workers see the end of the queue.
        drop(blocks);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("gzip writer thread panicked")));
        match (produced, written) {
            (Ok(value), Ok(out)) => Ok((value, out)),
            // A broken pipe only means the writer stopped; its error says why.
            (Err(error), Err(writer_error)) if error.kind() == io::ErrorKind::BrokenPipe => Err(writer_error),
            (Err(error), _) | (Ok(_), Err(error)) => Err(error),
        }
    })
}

/// Cuts the stream into blocks and queues them.
struct BlockWriter {
    jobs: Option<SyncSender<Job>>,
    buffer: Vec<u8>,
    dictionary: Vec<u8>,
    next_index: usize,
}

impl BlockWriter {
    fn new(jobs: SyncSender<Job>) -> Self {
        Self {
            jobs: Some(jobs),
            buffer: Vec::with_capacity(BLOCK_SIZE),
            dictionary: Vec::new(),
            next_index: 0,
        }
    }

    fn send(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(if last { 0 } else { BLOCK_SIZE }),
        );
        let next_dictionary = data[data.len().saturating_sub(WINDOW)..].to_vec();
        let job = Job {
            index: self.next_index,
            dictionary: std::mem::replace(&mut self.dictionary, next_dictionary),
            data,
            last,
        };
        self.next_index += 1;
        let jobs = self
            .jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("gzip stream already finished"))?;
        jobs.send(job)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "gzip workers stopped"))
    }

    /// Queues the final block (possibly short, possibly empty).
    fn finish(&mut self) -> io::Result<()> {
        self.send(true)?;
        self.jobs = None;
        Ok(())
    }
}

impl Write for BlockWriter {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let written = data.len();
        while !data.is_empty() {
            // A full block is sent only once more data arrives, so the
            // final block is always the one `finish` sends.
            if self.buffer.len() == BLOCK_SIZE {
                self.send(false)?;
            }
            let take = (BLOCK_SIZE - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn worker(job_queue: &Mutex<Receiver<Job>>, done: &std::sync::mpsc::Sender<Done>) {
    loop {
        // Hold the lock only to take a job, not while compressing it.
        let job = match job_queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let mut crc = Crc::new();
        crc.update(&job.data);
        let compressed = deflate_block(&job.dictionary, &job.data, job.last);
        let result = Done {
            index: job.index,
            compressed,
            crc,
            last: job.last,
        };
        if done.send(result).is_err() {
            return;
        }
    }
}

/// Raw-deflates one block with a fresh compressor.
fn deflate_block(dictionary: &[u8], data: &[u8], last: bool) -> io::Result<Vec<u8>> {
    let mut compressor = Compress::new(Compression::new(LEVEL), false);
    if !dictionary.is_empty() {
        compressor.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    // Deflate's worst case is a little over the input size; starting there
    // makes one call the norm.
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 256);
    loop {
        if out.capacity() - out.len() < 256 {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = compressor.total_in() as usize;
        let status = compressor
            .compress_vec(&data[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = compressor.total_in() as usize == data.len();
        match status {
            Status::StreamEnd => return Ok(out),
            // A sync flush is complete once the input is consumed and the
            // compressor stopped with output room to spare.
            Status::Ok | Status::BufError if !last && all_in && out.len() < out.capacity() => return Ok(out),
            Status::Ok | Status::BufError => {}
        }
    }
}

/// Writes the header, the blocks in index order, and the trailer.
fn write_in_order<W: Write>(mut out: W, finished: &Receiver<Done>) -> io::Result<W> {
    out.write_all(&HEADER)?;
    let mut pending: BTreeMap<usize, Done> = BTreeMap::new();
    let mut next = 0usize;
    let mut crc = Crc::new();
    for block in finished {
        pending.insert(block.index, block);
        while let Some(block) = pending.remove(&next) {
            out.write_all(&block.compressed?)?;
            crc.combine(&block.crc);
            next += 1;
            if block.last {
                // CRC-32 and ISIZE; `amount` is the length mod 2^32.
                out.write_all(&crc.sum().to_le_bytes())?;
                out.write_all(&crc.amount().to_le_bytes())?;
                out.flush()?;
                return Ok(out);
            }
        }
    }
    Err(io::Error::other("gzip stream ended before its last block"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Text-like bytes that compress, without being trivially repetitive.
    fn sample(len: usize) -> Vec<u8> {
        let words = [
            "alpha ", "beta ", "gamma ", "delta\n", "epsilon ", "zeta ", "eta\n",
        ];
        let mut state = 0x2545_f491_u32;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            out.extend_from_slice(words[state as usize % words.len()].as_bytes());
            out.extend_from_slice(state.to_string().as_bytes());
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8], threads: usize) -> Vec<u8> {
        let threads = NonZeroUsize::new(threads).unwrap();
        compress(Vec::new(), threads, |w| w.write_all(data)).unwrap().1
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn round_trips_at_block_boundaries() {
        for len in [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE] {
            let data = sample(len);
            let packed = gzip(&data, 2);
            assert_eq!(&packed[..10], &HEADER);
            assert_eq!(gunzip(&packed), data, "length {len}");
        }
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let data = sample(3 * BLOCK_SIZE + 12_345);
        let one = gzip(&data, 1);
        assert_eq!(gzip(&data, 2), one);
        assert_eq!(gzip(&data, 5), one);
    }

    #[test]
    fn blocks_share_a_window() {
        // The second block repeats the first's tail; with the dictionary it
        // compresses to almost nothing.
        let mut data = sample(BLOCK_SIZE);
        let tail = data[BLOCK_SIZE - 20_000..].to_vec();
        data.extend_from_slice(&tail);
        let first = deflate_block(&[], &data[..BLOCK_SIZE], false).unwrap();
        let second =
            deflate_block(&data[BLOCK_SIZE - WINDOW..BLOCK_SIZE], &data[BLOCK_SIZE..], true).unwrap();
        let second_alone = deflate_block(&[], &data[BLOCK_SIZE..], true).unwrap();
        assert!(
            second.len() * 20 < second_alone.len(),
            "{} vs {}",
            second.len(),
            second_alone.len()
        );
        let mut stream = HEADER.to_vec();
        stream.extend_from_slice(&first);
        stream.extend_from_slice(&second);
        let mut crc = Crc::new();
        crc.update(&data);
        stream.extend_from_slice(&crc.sum().to_le_bytes());
        stream.extend_from_slice(&(data.len() as u32).to_le_bytes());
        assert_eq!(gunzip(&stream), data);
    }

    #[test]
    fn a_failing_sink_is_reported() {
        #[derive(Debug)]
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let data = sample(4 * BLOCK_SIZE);
        let error = compress(Full, NonZeroUsize::new(2).unwrap(), |w| w.write_all(&data)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    }
}
