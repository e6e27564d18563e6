//! [`Identity`]: who a peer on the bus is. The well-known fields are typed; every other key
//! (and a well-known key whose value has an unexpected JSON type) is kept in `extra`, so an
//! identity read from the wire serializes back to the same JSON object.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::{Map, Value};

/// The identity of a peer on the bus, as the gateway resolved it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Identity {
    /// `application`: the app's name, e.g. `CRM`.
    pub application: Option<String>,
    /// `applicationName`: the app's display name, when it sets one.
    pub application_name: Option<String>,
    /// `instance`: the running instance's id.
    pub instance: Option<String>,
    /// `user`: who the peer logged in as.
    pub user: Option<String>,
    /// `machine`: the host it runs on.
    pub machine: Option<String>,
    /// `process`: its OS process id.
    pub process: Option<u64>,
    /// Every other key, in the order the bus sent them.
    pub extra: Map<String, Value>,
}

/// The wire names of the typed fields, in the order they serialize.
const APPLICATION: &str = "application";
const APPLICATION_NAME: &str = "applicationName";
const INSTANCE: &str = "instance";
const USER: &str = "user";
const MACHINE: &str = "machine";
const PROCESS: &str = "process";

impl Identity {
    /// An identity with only `application` set.
    pub fn application(name: impl Into<String>) -> Self {
        Self {
            application: Some(name.into()),
            ..Self::default()
        }
    }

    /// The value under the wire key `key` (`application`, `applicationName`, … or an extra
    /// key), as the JSON it would serialize to.
    pub fn get(&self, key: &str) -> Option<Cow<'_, Value>> {
        let text = |field: &Option<String>| {
            field
                .as_ref()
                .map(|text| Cow::Owned(Value::String(text.clone())))
        };
        match key {
            APPLICATION => text(&self.application),
            APPLICATION_NAME => text(&self.application_name),
            INSTANCE => text(&self.instance),
            USER => text(&self.user),
            MACHINE => text(&self.machine),
            PROCESS => self.process.map(|pid| Cow::Owned(Value::from(pid))),
            _ => None,
        }
        .or_else(|| self.extra.get(key).map(Cow::Borrowed))
    }

    /// The string under the wire key `key`, if it holds one.
    pub fn text(&self, key: &str) -> Option<&str> {
        match key {
            APPLICATION => self.application.as_deref(),
            APPLICATION_NAME => self.application_name.as_deref(),
            INSTANCE => self.instance.as_deref(),
            USER => self.user.as_deref(),
            MACHINE => self.machine.as_deref(),
            _ => None,
        }
        .or_else(|| self.extra.get(key).and_then(Value::as_str))
    }

    /// How many keys the JSON object has.
    pub fn len(&self) -> usize {
        self.typed().count() + self.extra.len()
    }

    /// Whether the JSON object would be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key with its value, typed fields first, as they serialize.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, Value>)> {
        self.typed()
            .map(|(key, value)| (key, Cow::Owned(value)))
            .chain(
                self.extra
                    .iter()
                    .map(|(key, value)| (key.as_str(), Cow::Borrowed(value))),
            )
    }

    /// The identity as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(key, value)| (key.to_owned(), value.into_owned()))
            .collect()
    }

    fn typed(&self) -> impl Iterator<Item = (&'static str, Value)> {
        let text = |key: &'static str, field: &Option<String>| {
            field
                .as_ref()
                .map(|text| (key, Value::String(text.clone())))
        };
        [
            text(APPLICATION, &self.application),
            text(APPLICATION_NAME, &self.application_name),
            text(INSTANCE, &self.instance),
            text(USER, &self.user),
            text(MACHINE, &self.machine),
            self.process.map(|pid| (PROCESS, Value::from(pid))),
        ]
        .into_iter()
        .flatten()
    }
}

impl From<Map<String, Value>> for Identity {
    /// Takes the well-known keys whose values have the expected type; the rest stays in
    /// `extra` untouched.
    fn from(map: Map<String, Value>) -> Self {
        let mut identity = Self::default();
        for (key, value) in map {
            let slot = match key.as_str() {
                APPLICATION => Some(&mut identity.application),
                APPLICATION_NAME => Some(&mut identity.application_name),
                INSTANCE => Some(&mut identity.instance),
                USER => Some(&mut identity.user),
                MACHINE => Some(&mut identity.machine),
                _ => None,
            };
            match (slot, value) {
                (Some(slot), Value::String(text)) => *slot = Some(text),
                (None, Value::Number(number)) if key == PROCESS && number.is_u64() => {
                    identity.process = number.as_u64();
                }
                (_, value) => {
                    identity.extra.insert(key, value);
                }
            }
        }
        identity
    }
}

impl From<Identity> for Map<String, Value> {
    fn from(identity: Identity) -> Self {
        identity.to_map()
    }
}

impl Serialize for Identity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, &value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Identity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Self::from)
    }
}
