//! Composite-type arguments (chapter 8): `c_overpaid`.
