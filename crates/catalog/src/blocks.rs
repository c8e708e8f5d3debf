//! A file reader for tag parsing that reads in 64 KiB blocks at fixed offsets and keeps the
//! last few in memory. Tag parsers seek back and forth (headers, frames, trailing tags); on a
//! `BufReader` every seek is a system call and drops the buffer, some fifty calls per file.
//! Here a seek is arithmetic, and a small file is one read.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

const BLOCK: u64 = 64 * 1024;
/// Blocks kept: the start, the end, and a couple in between are what tag parsers visit.
const KEPT: usize = 4;

pub struct BlockReader {
    file: File,
    len: u64,
    pos: u64,
    /// (block number, its bytes), most recently used last.
    blocks: Vec<(u64, Vec<u8>)>,
}

impl BlockReader {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(BlockReader {
            file,
            len,
            pos: 0,
            blocks: Vec::with_capacity(KEPT),
        })
    }

    /// The block holding `number`, read if it is not kept.
    fn block(&mut self, number: u64) -> io::Result<&[u8]> {
        if let Some(at) = self.blocks.iter().position(|(n, _)| *n == number) {
            let kept = self.blocks.remove(at);
            self.blocks.push(kept);
        } else {
            let start = number * BLOCK;
            let size = BLOCK.min(self.len.saturating_sub(start)) as usize;
            // Shorter than asked when the file got shorter since it was opened.
            let bytes = read_up_to(&self.file, start, size)?;
            if self.blocks.len() == KEPT {
                self.blocks.remove(0);
            }
            self.blocks.push((number, bytes));
        }
        Ok(self
            .blocks
            .last()
            .map_or(&[][..], |(_, bytes)| bytes.as_slice()))
    }
}

/// `want` bytes of `file` at `at`, or fewer when the file ends before.
pub(crate) fn read_up_to(file: &File, at: u64, want: usize) -> io::Result<Vec<u8>> {
    let mut buffer = vec![0; want];
    let mut filled = 0;
    while filled < want {
        match file.read_at(&mut buffer[filled..], at + filled as u64) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buffer.truncate(filled);
    Ok(buffer)
}

impl Read for BlockReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let (number, offset) = (self.pos / BLOCK, (self.pos % BLOCK) as usize);
        let block = self.block(number)?;
        let available = block.get(offset..).unwrap_or_default();
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for BlockReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_and_seeks_like_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut reader = BlockReader::open(&path).unwrap();
        // Across block boundaries, from the end, backwards, and past the end.
        for (seek, len) in [
            (SeekFrom::Start(65_530), 20),
            (SeekFrom::End(-128), 128),
            (SeekFrom::Start(10), 200_000),
            (SeekFrom::Current(-5_000), 10),
            (SeekFrom::End(0), 10),
        ] {
            let at = reader.seek(seek).unwrap() as usize;
            let mut got = Vec::new();
            (&mut reader).take(len).read_to_end(&mut got).unwrap();
            let end = (at + len as usize).min(data.len());
            assert_eq!(got, data[at.min(end)..end], "at {at}, {len} bytes");
        }
        assert!(reader.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
