//! Output kept up to a cap: the first half and the last half of what a stream wrote, so both
//! the first error and the final result survive a flood.

use std::collections::VecDeque;
use std::io::{self, Write};

/// What was kept of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub text: String,
    /// Bytes dropped from the middle.
    pub dropped: u64,
}

/// A stream kept up to `cap` bytes: its first half goes to `head` as it comes (a buffer, or a
/// log file), its last half is held until [`HeadTail::finish`] writes it after a marker line
/// saying how much was dropped between them.
pub struct HeadTail<W> {
    cap: usize,
    head: W,
    head_len: usize,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl<W: Write> HeadTail<W> {
    pub fn new(head: W, cap: usize) -> Self {
        Self {
            cap,
            head,
            head_len: 0,
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let head_room = (self.cap / 2).saturating_sub(self.head_len);
        let into_head = head_room.min(bytes.len());
        self.head.write_all(&bytes[..into_head])?;
        self.head_len += into_head;
        bytes = &bytes[into_head..];
        let tail_cap = self.cap - self.cap / 2;
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(tail_cap);
        self.tail.drain(..excess);
        self.dropped += excess as u64;
        Ok(())
    }

    /// Writes the marker, when anything was dropped, and the tail; gives back the head's
    /// writer and the number of bytes dropped.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        if self.dropped > 0 {
            let marker = format!("\n[… {} bytes not kept …]\n", self.dropped);
            self.head.write_all(marker.as_bytes())?;
        }
        let (front, back) = self.tail.as_slices();
        self.head.write_all(front)?;
        self.head.write_all(back)?;
        Ok((self.head, self.dropped))
    }
}

/// A stream kept in memory.
pub(crate) type Capped = HeadTail<Vec<u8>>;

impl Capped {
    pub(crate) fn in_memory(cap: usize) -> Self {
        Self::new(Vec::new(), cap)
    }

    pub(crate) fn captured(self) -> Captured {
        let (bytes, dropped) = self.finish().expect("writing to memory does not fail");
        Captured {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            dropped,
        }
    }
}

/// Splits a byte stream into lines, cutting a line that grows past `max_line` bytes.
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    max_line: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            partial: Vec::new(),
            max_line,
        }
    }

    /// Feeds bytes and returns the lines they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                lines.push(self.take());
            } else {
                self.partial.push(byte);
                if self.partial.len() >= self.max_line {
                    lines.push(self.take());
                }
            }
        }
        lines
    }

    /// The last line, when the stream ended without a newline.
    pub(crate) fn finish(&mut self) -> Option<String> {
        (!self.partial.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> String {
        let line = String::from_utf8_lossy(&self.partial)
            .trim_end_matches('\r')
            .to_string();
        self.partial.clear();
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(cap: usize, pushes: &[&[u8]]) -> Captured {
        let mut capped = Capped::in_memory(cap);
        for bytes in pushes {
            capped.push(bytes).unwrap();
        }
        capped.captured()
    }

    #[test]
    fn keeps_head_and_tail_of_a_flood() {
        let kept = capped(10, &[b"abcdefghij", b"klmnopqrst"]);
        assert_eq!(kept.dropped, 10);
        assert!(kept.text.starts_with("abcde\n[… 10 bytes not kept …]\n"));
        assert!(kept.text.ends_with("pqrst"));
    }

    #[test]
    fn short_output_is_kept_whole() {
        assert_eq!(
            capped(100, &[b"hello ", b"world"]),
            Captured {
                text: "hello world".into(),
                dropped: 0
            }
        );
    }

    #[test]
    fn the_marker_and_the_tail_follow_the_head_in_its_writer() {
        let mut kept = HeadTail::new(Vec::new(), 8);
        kept.push(b"0123456789").unwrap();
        let (head, dropped) = kept.finish().unwrap();
        assert_eq!(dropped, 2);
        assert_eq!(
            head,
            b"0123\n[\xe2\x80\xa6 2 bytes not kept \xe2\x80\xa6]\n6789"
        );
    }

    #[test]
    fn splits_lines_across_chunks_and_cuts_long_ones() {
        let mut lines = LineSplitter::new(4);
        assert_eq!(lines.feed(b"ab\r\nc"), vec!["ab"]);
        assert_eq!(lines.feed(b"d\nxyzzy"), vec!["cd", "xyzz"]);
        assert_eq!(lines.finish().as_deref(), Some("y"));
        assert_eq!(lines.finish(), None);
    }
}
