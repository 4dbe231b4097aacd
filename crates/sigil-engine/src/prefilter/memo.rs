//! What the large groups found in the values scanned lately.

use super::Group;

/// What the large groups found in the values scanned lately, so that a value met again
/// (the same image, parent, hashes or command line in event after event) is not scanned
/// again: a direct-mapped table of `(group, value) → literals found`, one per scan.
///
/// A group's automaton is large and, between two events that need it, the other fields'
/// automata and the rules push it out of the processor's caches: a command line costs
/// about 0.35 µs to scan in a loop and several times that in a hunt. One slot of this table
/// costs a hash of the value and one comparison. What a group finds in a value depends on
/// nothing else, so the table never changes a result.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    slots: Vec<MemoSlot>,
}

#[derive(Debug, Default)]
struct MemoSlot {
    /// The group plus one (0: empty).
    group: u32,
    value: Vec<u8>,
    found: Vec<u32>,
}

impl Memo {
    /// Slots of the table.
    const SLOTS: usize = 4096;
    /// Longer values are scanned each time (rare, and a copy would cost what a scan does).
    const MAX_VALUE: usize = 512;

    /// Calls `found` with every literal `group` (number `g`) finds in `hay`, as
    /// [`Group::each`] does, from the table when `hay` was scanned for the group last in
    /// its slot.
    pub(crate) fn each(&mut self, g: u32, group: &Group, hay: &[u8], found: &mut dyn FnMut(usize)) {
        if !group.is_large() || hay.len() > Self::MAX_VALUE {
            group.each(hay, found);
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize_with(Self::SLOTS, MemoSlot::default);
        }
        let mut hasher = rustc_hash::FxHasher::default();
        std::hash::Hasher::write_u32(&mut hasher, g);
        std::hash::Hasher::write(&mut hasher, hay);
        let h = std::hash::Hasher::finish(&hasher);
        let slot = &mut self.slots[(h >> 32) as usize & (Self::SLOTS - 1)];
        if slot.group == g + 1 && slot.value == hay {
            for &l in &slot.found {
                found(l as usize);
            }
            return;
        }
        slot.group = g + 1;
        slot.value.clear();
        slot.value.extend_from_slice(hay);
        slot.found.clear();
        let list = &mut slot.found;
        group.each(hay, &mut |l| {
            list.push(l as u32);
            found(l);
        });
    }
}
