//! Reading a document's version field back from the typed document, so the
//! version check needs no parse of its own.
//!
//! The loader parses a document once, straight into its type; the version
//! field is then one of the struct's fields. Its value is read through the
//! document's `Serialize` impl by a serializer that looks at the top-level
//! field names only and serializes nothing but the one field asked for, so
//! the check costs a few field-name comparisons, whatever the document's size.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeStruct, Serializer};

/// The value of the top-level field `field` of `document`, as JSON; `None`
/// when the document is not a struct or has no such field.
pub(crate) fn top_level_field<D: Serialize>(document: &D, field: &'static str) -> Option<serde_json::Value> {
    document.serialize(FieldPicker { field }).ok().flatten()
}

/// A serializer that accepts only a struct and keeps one of its fields.
struct FieldPicker {
    field: &'static str,
}

/// The picked field, once seen.
struct PickedField {
    field: &'static str,
    value: Option<serde_json::Value>,
}

impl SerializeStruct for PickedField {
    type Ok = Option<serde_json::Value>;
    type Error = NotAStruct;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAStruct> {
        // Only the version field is serialized: a number or a short string.
        if key == self.field {
            self.value = serde_json::to_value(value).ok();
        }
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, NotAStruct> {
        Ok(self.value)
    }
}

/// What [`FieldPicker`] says to anything but a struct.
#[derive(Debug)]
struct NotAStruct;

impl fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a struct")
    }
}

impl std::error::Error for NotAStruct {}

impl ser::Error for NotAStruct {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotAStruct
    }
}

/// Serializer methods for everything but a struct: refused.
macro_rules! not_a_struct {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, NotAStruct> {
            Err(NotAStruct)
        })*
    };
}

impl Serializer for FieldPicker {
    type Ok = Option<serde_json::Value>;
    type Error = NotAStruct;
    type SerializeSeq = Impossible<Self::Ok, NotAStruct>;
    type SerializeTuple = Impossible<Self::Ok, NotAStruct>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotAStruct>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotAStruct>;
    type SerializeMap = Impossible<Self::Ok, NotAStruct>;
    type SerializeStruct = PickedField;
    type SerializeStructVariant = Impossible<Self::Ok, NotAStruct>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<PickedField, NotAStruct> {
        Ok(PickedField {
            field: self.field,
            value: None,
        })
    }

    not_a_struct! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAStruct> {
        Err(NotAStruct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Doc {
        version: u64,
        name: String,
        nested: Vec<u8>,
    }

    #[test]
    fn picks_one_top_level_field_of_a_struct() {
        let doc = Doc {
            version: 3,
            name: "x".to_owned(),
            nested: vec![1],
        };
        assert_eq!(top_level_field(&doc, "version"), Some(serde_json::json!(3)));
        assert_eq!(top_level_field(&doc, "name"), Some(serde_json::json!("x")));
        assert_eq!(top_level_field(&doc, "missing"), None);
        assert_eq!(top_level_field(&vec![1u8], "version"), None);
    }
}
