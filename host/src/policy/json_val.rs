//! WIT values as JSON, and back, directed by the component's own types.
//!
//! The shape (the one `plugin run` inputs, fixtures and printed outputs
//! use): a record is an object keyed by its kebab-case field names, a list
//! an array, integers numbers, an enum its case name, a variant case with
//! no payload its name and one with a payload a one-key object
//! (`{"hold": [...]}`), an option `null` or its value, a result
//! `{"ok": v}` or `{"err": e}`. Conversion follows the function's types, so
//! it works for every kind and every WIT version the host loads.

use serde_json::{Map, Number, Value};
use wasmtime::component::Val;
use wasmtime::component::types::Type;

/// A JSON value that does not fit the WIT type expected where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ValueError {
    /// Where, as a JSON pointer into the input (`/order/lines/0/quantity`).
    pub path: String,
    pub message: String,
}

/// Converts `json` to a value of type `ty`; every mismatch names its path.
pub fn to_val(ty: &Type, json: &Value) -> Result<Val, ValueError> {
    Converter {
        path: String::new(),
    }
    .convert(ty, json)
}

/// A value as JSON, in the shape described in the module documentation.
pub fn to_json(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => (*n).into(),
        Val::U8(n) => (*n).into(),
        Val::S16(n) => (*n).into(),
        Val::U16(n) => (*n).into(),
        Val::S32(n) => (*n).into(),
        Val::U32(n) => (*n).into(),
        Val::S64(n) => (*n).into(),
        Val::U64(n) => (*n).into(),
        Val::Float32(x) => Number::from_f64(f64::from(*x)).map_or(Value::Null, Value::Number),
        Val::Float64(x) => Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Map(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) | Val::Enum(case) => Value::String(case.clone()),
        Val::Variant(case, Some(payload)) => one_key(case, to_json(payload)),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => to_json(v),
        Val::Result(Ok(v)) => one_key("ok", v.as_deref().map_or(Value::Null, to_json)),
        Val::Result(Err(e)) => one_key("err", e.as_deref().map_or(Value::Null, to_json)),
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        // Policy functions pass no resources, futures or streams.
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            Value::String("<handle>".into())
        }
    }
}

/// About how many bytes a value takes across the boundary, as the typed
/// path counts an output against `Limits::max_output_bytes`.
pub fn wire_size(val: &Val) -> usize {
    match val {
        Val::Bool(_) | Val::S8(_) | Val::U8(_) => 1,
        Val::S16(_) | Val::U16(_) => 2,
        Val::S32(_) | Val::U32(_) | Val::Float32(_) | Val::Char(_) | Val::Enum(_) => 4,
        Val::S64(_) | Val::U64(_) | Val::Float64(_) => 8,
        Val::String(s) => s.len(),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            items.iter().map(wire_size).sum()
        }
        Val::Map(pairs) => pairs.iter().map(|(k, v)| wire_size(k) + wire_size(v)).sum(),
        Val::Record(fields) => fields.iter().map(|(_, v)| wire_size(v)).sum(),
        Val::Variant(_, payload) | Val::Option(payload) => {
            4 + payload.as_deref().map_or(0, wire_size)
        }
        Val::Result(Ok(v) | Err(v)) => 4 + v.as_deref().map_or(0, wire_size),
        Val::Flags(names) => names.len().div_ceil(8),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => 4,
    }
}

fn one_key(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

/// Walks the JSON and the type together, keeping the current path.
struct Converter {
    path: String,
}

impl Converter {
    fn error(&self, message: impl Into<String>) -> ValueError {
        ValueError {
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// Converts the child at `segment` (a field name or an index).
    fn at(&mut self, segment: &str, ty: &Type, json: &Value) -> Result<Val, ValueError> {
        let len = self.path.len();
        self.path.push('/');
        // JSON pointer escaping.
        self.path
            .push_str(&segment.replace('~', "~0").replace('/', "~1"));
        let val = self.convert(ty, json);
        self.path.truncate(len);
        val
    }

    fn convert(&mut self, ty: &Type, json: &Value) -> Result<Val, ValueError> {
        Ok(match ty {
            Type::Bool => Val::Bool(
                json.as_bool()
                    .ok_or_else(|| self.expected("true or false", json))?,
            ),
            Type::S8 => Val::S8(self.int(json, "s8")?),
            Type::U8 => Val::U8(self.int(json, "u8")?),
            Type::S16 => Val::S16(self.int(json, "s16")?),
            Type::U16 => Val::U16(self.int(json, "u16")?),
            Type::S32 => Val::S32(self.int(json, "s32")?),
            Type::U32 => Val::U32(self.int(json, "u32")?),
            Type::S64 => Val::S64(self.int(json, "s64")?),
            Type::U64 => Val::U64(self.int(json, "u64")?),
            Type::Float32 => Val::Float32(self.float(json)? as f32),
            Type::Float64 => Val::Float64(self.float(json)?),
            Type::Char => {
                let text = self.string(json)?;
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Val::Char(c),
                    _ => return Err(self.expected("a single character", json)),
                }
            }
            Type::String => Val::String(self.string(json)?.to_string()),
            Type::List(list) => Val::List(self.items(&list.ty(), json)?),
            Type::FixedLengthList(list) => {
                let items = self.items(&list.ty(), json)?;
                if items.len() != list.len() as usize {
                    return Err(self.error(format!(
                        "expected exactly {} items, got {}",
                        list.len(),
                        items.len()
                    )));
                }
                Val::FixedLengthList(items)
            }
            Type::Map(map) => {
                let object = json
                    .as_object()
                    .ok_or_else(|| self.expected("an object", json))?;
                let mut pairs = Vec::with_capacity(object.len());
                for (key, value) in object {
                    let key_val = self.at(key, &map.key(), &Value::String(key.clone()))?;
                    pairs.push((key_val, self.at(key, &map.value(), value)?));
                }
                Val::Map(pairs)
            }
            Type::Tuple(tuple) => {
                let array = json
                    .as_array()
                    .ok_or_else(|| self.expected("an array", json))?;
                if array.len() != tuple.types().len() {
                    return Err(self.error(format!(
                        "expected an array of {} items, got {}",
                        tuple.types().len(),
                        array.len()
                    )));
                }
                let mut items = Vec::with_capacity(array.len());
                for (i, (ty, item)) in tuple.types().zip(array).enumerate() {
                    items.push(self.at(&i.to_string(), &ty, item)?);
                }
                Val::Tuple(items)
            }
            Type::Record(record) => {
                let object = json
                    .as_object()
                    .ok_or_else(|| self.expected("an object", json))?;
                let names: Vec<&str> = record.fields().map(|f| f.name).collect();
                if let Some(unknown) = object.keys().find(|k| !names.contains(&k.as_str())) {
                    return Err(self.error(format!(
                        "unknown field `{unknown}`; the fields are {}",
                        names.join(", ")
                    )));
                }
                let mut fields = Vec::with_capacity(names.len());
                for field in record.fields() {
                    let value = match (object.get(field.name), &field.ty) {
                        (Some(value), _) => self.at(field.name, &field.ty, value)?,
                        // An absent option is `null`.
                        (None, Type::Option(_)) => Val::Option(None),
                        (None, _) => {
                            return Err(self.error(format!("missing field `{}`", field.name)));
                        }
                    };
                    fields.push((field.name.to_string(), value));
                }
                Val::Record(fields)
            }
            Type::Enum(enum_) => {
                let name = self.string(json)?;
                if !enum_.names().any(|n| n == name) {
                    return Err(self.error(format!(
                        "`{name}` is not one of {}",
                        enum_.names().collect::<Vec<_>>().join(", ")
                    )));
                }
                Val::Enum(name.to_string())
            }
            Type::Variant(variant) => {
                let cases = || {
                    variant
                        .cases()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let (name, payload) = match json {
                    Value::String(name) => (name.as_str(), None),
                    Value::Object(object) if object.len() == 1 => {
                        let (name, payload) = object.iter().next().expect("one key");
                        (name.as_str(), Some(payload))
                    }
                    _ => {
                        return Err(self.expected(
                            &format!("a case name or a one-key object (cases: {})", cases()),
                            json,
                        ));
                    }
                };
                let Some(case) = variant.cases().find(|c| c.name == name) else {
                    return Err(self.error(format!("`{name}` is not one of {}", cases())));
                };
                let payload = match (&case.ty, payload) {
                    (None, None) => None,
                    (Some(ty), Some(payload)) => Some(Box::new(self.at(name, ty, payload)?)),
                    (None, Some(_)) => {
                        return Err(self.error(format!(
                            "case `{name}` has no payload: write it as the string \"{name}\""
                        )));
                    }
                    (Some(_), None) => {
                        return Err(self.error(format!(
                            "case `{name}` has a payload: write it as {{\"{name}\": …}}"
                        )));
                    }
                };
                Val::Variant(name.to_string(), payload)
            }
            Type::Option(option) => match json {
                Value::Null => Val::Option(None),
                value => Val::Option(Some(Box::new(self.convert(&option.ty(), value)?))),
            },
            Type::Result(result) => {
                let object = json
                    .as_object()
                    .filter(|o| o.len() == 1)
                    .ok_or_else(|| self.expected("{\"ok\": …} or {\"err\": …}", json))?;
                let (key, value) = object.iter().next().expect("one key");
                let payload = |this: &mut Self, ty: Option<Type>| match ty {
                    Some(ty) => this.at(key, &ty, value).map(|v| Some(Box::new(v))),
                    None if value.is_null() => Ok(None),
                    None => Err(this.error(format!("`{key}` carries nothing here: write null"))),
                };
                match key.as_str() {
                    "ok" => Val::Result(Ok(payload(self, result.ok())?)),
                    "err" => Val::Result(Err(payload(self, result.err())?)),
                    other => {
                        return Err(self.error(format!("`{other}` is neither `ok` nor `err`")));
                    }
                }
            }
            Type::Flags(flags) => {
                let array = json
                    .as_array()
                    .ok_or_else(|| self.expected("an array of flag names", json))?;
                let mut set = Vec::with_capacity(array.len());
                for item in array {
                    let name = self.string(item)?;
                    if !flags.names().any(|n| n == name) {
                        return Err(self.error(format!(
                            "`{name}` is not one of {}",
                            flags.names().collect::<Vec<_>>().join(", ")
                        )));
                    }
                    set.push(name.to_string());
                }
                Val::Flags(set)
            }
            Type::Own(_)
            | Type::Borrow(_)
            | Type::Future(_)
            | Type::Stream(_)
            | Type::ErrorContext => {
                return Err(self.error("resources, futures and streams cannot be given as JSON"));
            }
        })
    }

    fn items(&mut self, ty: &Type, json: &Value) -> Result<Vec<Val>, ValueError> {
        let array = json
            .as_array()
            .ok_or_else(|| self.expected("an array", json))?;
        let mut items = Vec::with_capacity(array.len());
        for (i, item) in array.iter().enumerate() {
            items.push(self.at(&i.to_string(), ty, item)?);
        }
        Ok(items)
    }

    fn int<T: TryFrom<i64> + TryFrom<u64>>(
        &self,
        json: &Value,
        name: &str,
    ) -> Result<T, ValueError> {
        let fits = match json {
            Value::Number(n) => n
                .as_i64()
                .and_then(|i| T::try_from(i).ok())
                .or_else(|| n.as_u64().and_then(|u| T::try_from(u).ok())),
            _ => None,
        };
        fits.ok_or_else(|| self.expected(&format!("an integer that fits a {name}"), json))
    }

    fn float(&self, json: &Value) -> Result<f64, ValueError> {
        json.as_f64().ok_or_else(|| self.expected("a number", json))
    }

    fn string<'j>(&self, json: &'j Value) -> Result<&'j str, ValueError> {
        json.as_str().ok_or_else(|| self.expected("a string", json))
    }

    fn expected(&self, what: &str, got: &Value) -> ValueError {
        let got = match got {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => format!("the string {s:?}"),
            Value::Array(_) => "an array".to_string(),
            Value::Object(_) => "an object".to_string(),
        };
        self.error(format!("expected {what}, got {got}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn boxed(val: Val) -> Option<Box<Val>> {
        Some(Box::new(val))
    }

    #[test]
    fn values_print_in_the_agreed_shape() {
        let reason = Val::Record(vec![
            ("code".into(), Val::String("credit".into())),
            ("line-no".into(), Val::U32(2)),
        ]);
        let cases = [
            (Val::Variant("allow".into(), None), json!("allow")),
            (
                Val::Variant("hold".into(), boxed(Val::List(vec![reason]))),
                json!({"hold": [{"code": "credit", "line-no": 2}]}),
            ),
            (Val::Enum("key-account".into()), json!("key-account")),
            (Val::Option(None), json!(null)),
            (Val::Option(boxed(Val::S64(-5))), json!(-5)),
            (Val::Result(Ok(None)), json!({"ok": null})),
            (
                Val::Result(Err(boxed(Val::String("no".into())))),
                json!({"err": "no"}),
            ),
        ];
        for (val, expected) in cases {
            assert_eq!(to_json(&val), expected, "{val:?}");
        }
    }

    #[test]
    fn wire_size_counts_strings_and_scalars() {
        let line = Val::Record(vec![
            ("line-no".into(), Val::U32(1)),
            ("unit-price".into(), Val::S64(118_800)),
            ("explanation".into(), Val::String("base".into())),
        ]);
        assert_eq!(
            wire_size(&Val::List(vec![line.clone(), line])),
            2 * (4 + 8 + 4)
        );
    }
}
