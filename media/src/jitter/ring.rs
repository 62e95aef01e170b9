//! Preallocated slots for the packets waiting to be played, indexed by frame number.

/// One packet's payload, copied in.
#[derive(Debug)]
struct Slot {
    /// The frame index held, if any.
    index: Option<i64>,
    /// Bytes of `payload` in use.
    len: usize,
    /// Room for the codec's largest payload, allocated once.
    payload: Box<[u8]>,
}

/// A ring of fixed slots: frame `i` lives in slot `i mod capacity`. The caller keeps every
/// held index within `capacity` of the play-out position, so two never share a slot.
#[derive(Debug)]
pub(super) struct Ring {
    slots: Box<[Slot]>,
    /// Slots in use.
    held: usize,
    /// The highest index stored since the last [`Ring::clear`].
    highest: Option<i64>,
}

impl Ring {
    /// A ring of `capacity` (at least 1) slots of `max_payload` bytes each.
    pub(super) fn new(capacity: usize, max_payload: usize) -> Self {
        let slots = (0..capacity.max(1))
            .map(|_| Slot {
                index: None,
                len: 0,
                payload: vec![0; max_payload].into_boxed_slice(),
            })
            .collect();
        Self {
            slots,
            held: 0,
            highest: None,
        }
    }

    /// The number of slots.
    pub(super) fn capacity(&self) -> i64 {
        self.slots.len() as i64
    }

    /// Packets held.
    pub(super) fn len(&self) -> usize {
        self.held
    }

    fn position(&self, index: i64) -> usize {
        // rem_euclid by the (positive) slot count is in 0..len, so the cast is exact.
        index.rem_euclid(self.capacity()) as usize
    }

    /// Whether the packet for frame `index` is held.
    pub(super) fn contains(&self, index: i64) -> bool {
        self.slots[self.position(index)].index == Some(index)
    }

    /// Whether a packet for a frame after `index` is held.
    pub(super) fn has_after(&self, index: i64) -> bool {
        self.highest.is_some_and(|h| h > index)
    }

    /// Copies `payload` in as frame `index`. Returns false (and stores nothing) if the slot is
    /// taken or the payload does not fit; the caller's checks make both impossible.
    pub(super) fn insert(&mut self, index: i64, payload: &[u8]) -> bool {
        let position = self.position(index);
        let slot = &mut self.slots[position];
        let Some(room) = slot.payload.get_mut(..payload.len()) else {
            return false;
        };
        if slot.index.is_some() {
            return false;
        }
        room.copy_from_slice(payload);
        slot.len = payload.len();
        slot.index = Some(index);
        self.held += 1;
        self.highest = Some(self.highest.map_or(index, |h| h.max(index)));
        true
    }

    /// Removes frame `index` and lends its payload until the next call.
    pub(super) fn take(&mut self, index: i64) -> Option<&[u8]> {
        let position = self.position(index);
        let slot = &mut self.slots[position];
        if slot.index != Some(index) {
            return None;
        }
        slot.index = None;
        self.held -= 1;
        slot.payload.get(..slot.len)
    }

    /// Empties every slot; returns how many packets were held.
    pub(super) fn clear(&mut self) -> usize {
        for slot in &mut self.slots {
            slot.index = None;
        }
        self.highest = None;
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_wrap_and_hold_payloads() {
        let mut ring = Ring::new(4, 3);
        assert!(ring.insert(-1, &[1]));
        assert!(ring.insert(6, &[6, 6]));
        assert!(!ring.insert(2, &[2]), "slot 2 is taken by frame 6");
        assert!(!ring.insert(0, &[0; 4]), "too long for the slot");
        assert!(ring.contains(-1) && ring.contains(6) && !ring.contains(2));
        assert!(ring.has_after(5) && !ring.has_after(6));
        assert_eq!(ring.take(2), None);
        assert_eq!(ring.take(6), Some(&[6u8, 6][..]));
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.clear(), 1);
        assert!(!ring.contains(-1) && !ring.has_after(-10));
    }
}
