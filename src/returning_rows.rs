//! Returning rows (chapter 9): one composite value.
