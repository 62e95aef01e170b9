//! The slot pool: a fixed number of calls, each with buffers made once and reused.
//!
//! A call acquires a slot when it starts (46elks `hello`, SIP INVITE) and gives it back when
//! it ends, by dropping the [`SlotGuard`]. The slot's contents (resamplers, frame pools, the
//! utterance buffer, the VAD state) are built when the pool is built, so a call start costs a
//! mutex pop, not allocations, and the number of calls, and so memory and CPU, is bounded.
//! When no slot is free the call is refused at once and counted; it is never queued into
//! silence. The mutex is touched twice per call, never per frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A fixed-capacity pool of per-call state `S`.
#[derive(Debug)]
pub struct SlotPool<S> {
    free: Mutex<Vec<S>>,
    capacity: usize,
    refused: AtomicU64,
}

impl<S> SlotPool<S> {
    /// A pool of `capacity` slots, each built by `make`.
    pub fn new(capacity: usize, mut make: impl FnMut() -> S) -> Arc<Self> {
        Self::from_slots((0..capacity).map(|_| make()).collect())
    }

    /// A pool of `capacity` slots, each built by `make`, which may fail (loading a VAD).
    pub fn try_new<E>(
        capacity: usize,
        mut make: impl FnMut() -> Result<S, E>,
    ) -> Result<Arc<Self>, E> {
        Ok(Self::from_slots(
            (0..capacity).map(|_| make()).collect::<Result<_, E>>()?,
        ))
    }

    fn from_slots(free: Vec<S>) -> Arc<Self> {
        Arc::new(Self {
            capacity: free.len(),
            free: Mutex::new(free),
            refused: AtomicU64::new(0),
        })
    }

    /// Takes a free slot, or counts a refusal and returns `None`.
    pub fn try_acquire(self: &Arc<Self>) -> Option<SlotGuard<S>> {
        let slot = self.lock().pop();
        match slot {
            Some(slot) => Some(SlotGuard {
                slot: Some(slot),
                pool: Arc::clone(self),
            }),
            None => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Slots in the pool.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slots in use now.
    pub fn in_use(&self) -> usize {
        self.capacity - self.lock().len()
    }

    /// Calls refused for want of a slot since the pool was made.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<S>> {
        // A panic while holding this lock cannot leave the Vec inconsistent.
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A slot in use; dropping it returns the slot to the pool.
#[derive(Debug)]
pub struct SlotGuard<S> {
    slot: Option<S>,
    pool: Arc<SlotPool<S>>,
}

impl<S> std::ops::Deref for SlotGuard<S> {
    type Target = S;
    fn deref(&self) -> &S {
        // Only `drop` takes the slot out.
        self.slot
            .as_ref()
            .unwrap_or_else(|| unreachable!("slot taken before drop"))
    }
}

impl<S> std::ops::DerefMut for SlotGuard<S> {
    fn deref_mut(&mut self) -> &mut S {
        self.slot
            .as_mut()
            .unwrap_or_else(|| unreachable!("slot taken before drop"))
    }
}

impl<S> Drop for SlotGuard<S> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.lock().push(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_enforced_and_refusals_counted() {
        let pool = SlotPool::new(2, || vec![0u8; 16]);
        let a = pool.try_acquire().expect("first");
        let mut b = pool.try_acquire().expect("second");
        b[0] = 7;
        assert!(pool.try_acquire().is_none());
        assert_eq!((pool.in_use(), pool.refused()), (2, 1));
        drop(b);
        let c = pool.try_acquire().expect("freed slot");
        assert_eq!(
            c[0], 7,
            "the same buffers come back: nothing is reallocated"
        );
        drop((a, c));
        assert_eq!(pool.in_use(), 0);
    }

    #[test]
    fn failing_constructor_fails_the_pool() {
        let mut n = 0;
        let pool = SlotPool::<u8>::try_new(3, || {
            n += 1;
            if n == 2 { Err("no model") } else { Ok(0) }
        });
        assert_eq!(pool.err(), Some("no model"));
    }
}
