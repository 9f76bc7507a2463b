//! `wire_enum!`: declares an enum whose every value has one exact wire/storage spelling.
//!
//! The spec fixes the spelling of every enumeration value, and the same strings go to JSON, SQLite
//! columns and log lines. One macro keeps `as_str`, `FromStr`, `Display` and serde in agreement, so
//! a value can never be written one way and read another.

/// Error returned when a string is not one of an enum's wire spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value {shown}")]
pub struct UnknownValue {
    /// The enum's name, e.g. `SessionState`.
    pub kind: &'static str,
    /// The rejected text as errors show it (`quote`: quoted and bounded).
    pub shown: String,
}

/// Declares `pub enum $name { $variant => "spelling", … }` with `ALL`, `as_str`, `FromStr`,
/// `Display`, `Serialize` and `Deserialize` all driven by the same spelling table.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The exact wire/storage spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    other => Err($crate::domain::UnknownValue {
                        kind: stringify!($name),
                        shown: $crate::domain::quote(other),
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use wire_enum;
