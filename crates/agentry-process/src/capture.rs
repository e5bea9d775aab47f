//! Output kept up to a cap: the first half and the last half of what a stream wrote, so both
//! the first error and the final result survive a flood.

use std::collections::VecDeque;

/// What was kept of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captured {
    pub text: String,
    /// Bytes dropped from the middle.
    pub dropped: u64,
}

pub(crate) struct Capped {
    cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl Capped {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        let head_room = (self.cap / 2).saturating_sub(self.head.len());
        let into_head = head_room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        let tail_cap = self.cap - self.cap / 2;
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(tail_cap);
        self.tail.drain(..excess);
        self.dropped += excess as u64;
    }

    pub(crate) fn finish(self) -> Captured {
        let mut bytes = self.head;
        if self.dropped > 0 {
            bytes
                .extend_from_slice(format!("\n[… {} bytes not kept …]\n", self.dropped).as_bytes());
        }
        bytes.extend(self.tail);
        Captured {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            dropped: self.dropped,
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

    #[test]
    fn keeps_head_and_tail_of_a_flood() {
        let mut capped = Capped::new(10);
        capped.push(b"abcdefghij");
        capped.push(b"klmnopqrst");
        let kept = capped.finish();
        assert_eq!(kept.dropped, 10);
        assert!(kept.text.starts_with("abcde\n[… 10 bytes not kept …]\n"));
        assert!(kept.text.ends_with("pqrst"));
    }

    #[test]
    fn short_output_is_kept_whole() {
        let mut capped = Capped::new(100);
        capped.push(b"hello ");
        capped.push(b"world");
        assert_eq!(
            capped.finish(),
            Captured {
                text: "hello world".into(),
                dropped: 0
            }
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
