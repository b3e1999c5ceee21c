//! Returning sets (chapter 10): `retcomposite`.
