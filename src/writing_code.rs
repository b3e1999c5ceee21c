//! Writing code (chapter 5): memory contexts, zeroed padding.
