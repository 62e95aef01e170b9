//! The outbound queue: a ring of agent frames in one preallocated block of samples.

/// A FIFO of fixed-length frames; after [`FrameQueue::new`] it never allocates.
#[derive(Debug)]
pub(super) struct FrameQueue {
    /// `capacity` frames of `frame_len` samples, back to back.
    samples: Box<[i16]>,
    frame_len: usize,
    capacity: usize,
    /// Index of the oldest frame.
    head: usize,
    len: usize,
}

impl FrameQueue {
    /// A queue of `capacity` frames (at least one) of `frame_len` samples.
    pub(super) fn new(capacity: usize, frame_len: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            samples: vec![0; capacity * frame_len].into_boxed_slice(),
            frame_len,
            capacity,
            head: 0,
            len: 0,
        }
    }

    /// Samples in one frame.
    pub(super) fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Frames queued.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether no frame is queued.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether another frame fits.
    pub(super) fn has_room(&self) -> bool {
        self.len < self.capacity
    }

    /// Copies `frame` in at the back; false (and nothing copied) when full or the length is
    /// wrong.
    pub(super) fn push(&mut self, frame: &[i16]) -> bool {
        if !self.has_room() || frame.len() != self.frame_len {
            return false;
        }
        let slot = (self.head + self.len) % self.capacity;
        match self.slot_mut(slot) {
            Some(dst) => dst.copy_from_slice(frame),
            None => return false,
        }
        self.len += 1;
        true
    }

    /// The oldest frame.
    pub(super) fn front(&self) -> Option<&[i16]> {
        if self.is_empty() {
            return None;
        }
        let start = self.head * self.frame_len;
        self.samples.get(start..start + self.frame_len)
    }

    /// Drops the oldest frame; false when empty.
    pub(super) fn pop(&mut self) -> bool {
        if self.is_empty() {
            return false;
        }
        self.head = (self.head + 1) % self.capacity;
        self.len -= 1;
        true
    }

    /// Drops every frame.
    pub(super) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    fn slot_mut(&mut self, slot: usize) -> Option<&mut [i16]> {
        let start = slot * self.frame_len;
        self.samples.get_mut(start..start + self.frame_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_wraps_and_refuses_when_full() {
        let mut q = FrameQueue::new(3, 2);
        assert!(!q.push(&[1]), "wrong length");
        for round in 0..5i16 {
            assert!(q.push(&[round, 0]));
            assert!(q.push(&[round, 1]));
            assert!(q.push(&[round, 2]));
            assert!(!q.push(&[round, 3]), "full");
            for i in 0..3 {
                assert_eq!(q.front(), Some(&[round, i][..]));
                assert!(q.pop());
            }
            assert!(q.is_empty() && !q.pop() && q.front().is_none());
            assert!(q.push(&[9, 9]));
            assert_eq!(q.len(), 1);
            assert!(q.pop());
        }
        assert!(q.push(&[7, 7]) && q.push(&[8, 8]));
        q.clear();
        assert_eq!((q.len(), q.front()), (0, None));
    }
}
