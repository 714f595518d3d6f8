//! The global allocator of a plugin component: size-class free lists over
//! chunks taken from the system allocator.
//!
//! A policy call allocates many small, short-lived blocks (every input
//! string and list the host lowers, every output and explanation), then
//! frees them all. The libc allocator (dlmalloc) spends a few hundred
//! metered instructions per allocation and free on splitting and
//! coalescing; here an allocation pops a free list (or bumps a pointer)
//! and a free pushes one, a dozen instructions each. Freed blocks are kept
//! for their size class, so a warm instance's memory stops growing after
//! its first calls; the host's memory cap bounds it in any case.
//!
//! Blocks are powers of two from 16 bytes to 32 KiB, 16-byte aligned;
//! larger or more strictly aligned requests go to the system allocator.
//! Only compiled into WebAssembly builds: a component runs one thread.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use std::alloc::System;

const MIN_SHIFT: u32 = 4;
const MAX_SHIFT: u32 = 15;
const CLASSES: usize = (MAX_SHIFT - MIN_SHIFT + 1) as usize;
const ALIGN: usize = 1 << MIN_SHIFT;
/// Bytes taken from the system allocator at a time.
const CHUNK: usize = 64 << 10;

struct State {
    /// Head of each size class's free list; a free block's first word
    /// points to the next.
    free: [*mut u8; CLASSES],
    /// The unused rest of the current chunk.
    bump: usize,
    end: usize,
}

/// The allocator; see the module documentation.
pub struct SizeClasses(UnsafeCell<State>);

// A component instance is single-threaded (wasm32-wasip2 without threads).
unsafe impl Sync for SizeClasses {}

impl SizeClasses {
    /// An allocator with nothing allocated yet.
    pub const fn new() -> Self {
        SizeClasses(UnsafeCell::new(State {
            free: [ptr::null_mut(); CLASSES],
            bump: 0,
            end: 0,
        }))
    }
}

impl Default for SizeClasses {
    fn default() -> Self {
        Self::new()
    }
}

/// The size class of a layout, or `None` for the system allocator.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    if layout.align() > ALIGN || layout.size() > 1 << MAX_SHIFT {
        return None;
    }
    let size = layout.size().max(ALIGN);
    let shift = usize::BITS - (size - 1).leading_zeros();
    Some((shift - MIN_SHIFT) as usize)
}

#[inline]
fn class_size(class: usize) -> usize {
    1 << (class as u32 + MIN_SHIFT)
}

unsafe impl GlobalAlloc for SizeClasses {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class(layout) else {
            return unsafe { System.alloc(layout) };
        };
        let state = unsafe { &mut *self.0.get() };
        let head = state.free[class];
        if !head.is_null() {
            state.free[class] = unsafe { *(head as *mut *mut u8) };
            return head;
        }
        let size = class_size(class);
        if state.end - state.bump < size {
            let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, ALIGN)) };
            if chunk.is_null() {
                return chunk;
            }
            state.bump = chunk as usize;
            state.end = chunk as usize + CHUNK;
        }
        let block = state.bump as *mut u8;
        state.bump += size;
        block
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = class(layout) else {
            return unsafe { System.dealloc(block, layout) };
        };
        let state = unsafe { &mut *self.0.get() };
        unsafe { *(block as *mut *mut u8) = state.free[class] };
        state.free[class] = block;
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            (Some(old), Some(new)) if old == new => block,
            (None, None) => unsafe { System.realloc(block, layout, new_size) },
            _ => {
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                }
                moved
            }
        }
    }
}
