//! Polymorphic arguments and return types (chapter 11): `make_array`.
