//! Version-1 calling convention (chapter 4): NULL arguments, copies, slices.
