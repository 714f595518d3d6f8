//! Ed25519 signatures over plugin components: who published a component,
//! and that its bytes are the ones they signed.
//!
//! A signature covers [`SIGNED_CONTEXT`] followed by the 32 raw bytes of
//! sha256(component). The context string keeps a publisher key's plugin
//! signatures from meaning anything anywhere else the key might be used; the
//! hash keeps the signed message small whatever the component's size.
//!
//! Three small JSON files carry keys and signatures between the integrator's
//! machine and HQ (`chanhost keygen`, `chanhost plugin sign`):
//! `<id>.key` ([`SecretKeyFile`], mode 0600), `<id>.pub` ([`PublicKeyFile`])
//! and `<component>.wasm.sig` ([`SignatureFile`]). On upload the signature
//! travels as the header `Chanhost-Signature: <key id>:<base64 signature>`,
//! checked by [`verify`] against the keys hq.toml trusts.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::config::TrustedKey;

/// What every plugin signature signs before the component's hash.
pub const SIGNED_CONTEXT: &[u8] = b"chanhost-plugin-v1\0";

/// The upload header carrying [`SignatureFile::header`].
pub const SIGNATURE_HEADER: &str = "chanhost-signature";

/// Longest key id: ids are short names shown in manifests and messages.
const MAX_KEY_ID_LEN: usize = 64;

/// Why an upload's signature was refused. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "the component is unsigned: sign it with `chanhost plugin sign <file.wasm> --key <id>.key` \
         and send the signature in the Chanhost-Signature header (`chanhost plugin publish` does both)"
    )]
    Unsigned,
    #[error(
        "the Chanhost-Signature header is malformed ({0}); expected `<key id>:<base64 signature>` \
         as `chanhost plugin sign` writes it"
    )]
    Malformed(String),
    #[error(
        "signed by key `{0}`, which HQ does not trust: sign with a key listed in hq.toml \
         [registry] trusted_keys, or ask HQ to add this key's public key there"
    )]
    UntrustedKey(String),
    #[error(
        "signature by key `{key_id}` does not match this component: it was altered after signing \
         or signed with another key of the same id; sign the exact file you upload again"
    )]
    Invalid { key_id: String },
}

/// Why a key or signature file could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "key id `{0}` is not usable: use 1 to {MAX_KEY_ID_LEN} letters, digits, `-`, `_` or `.`"
    )]
    BadKeyId(String),
    #[error("{} already exists; refusing to overwrite a key (move it away first)", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// A publisher's signing key, with the id its signatures carry.
pub struct SecretKey {
    key_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// `<id>.key`: the 32-byte ed25519 seed, base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyFile {
    pub key_id: String,
    pub secret_key: String,
}

/// `<id>.pub`: what HQ adds to `[registry] trusted_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyFile {
    pub key_id: String,
    pub public_key: String,
}

/// `<component>.wasm.sig`: one signature and the component hash it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub key_id: String,
    /// sha256 of the signed component, hex (to tell which file it belongs to).
    pub sha256: String,
    /// The 64-byte ed25519 signature, base64.
    pub signature: String,
}

impl SecretKey {
    /// A new key pair from the operating system's random source.
    pub fn generate(key_id: &str) -> Result<SecretKey, KeyError> {
        check_key_id(key_id)?;
        let mut seed = [0u8; 32];
        rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut seed)
            .map_err(|err| KeyError::Random(err.to_string()))?;
        Ok(SecretKey {
            key_id: key_id.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn from_file(file: &SecretKeyFile, path: &Path) -> Result<SecretKey, KeyError> {
        check_key_id(&file.key_id)?;
        let seed: [u8; 32] = decode_fixed(&file.secret_key).map_err(|reason| KeyError::Format {
            path: path.to_path_buf(),
            reason: format!("secret_key {reason}"),
        })?;
        Ok(SecretKey {
            key_id: file.key_id.clone(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn to_file(&self) -> SecretKeyFile {
        SecretKeyFile {
            key_id: self.key_id.clone(),
            secret_key: BASE64.encode(self.key.to_bytes()),
        }
    }

    pub fn public(&self) -> PublicKeyFile {
        PublicKeyFile {
            key_id: self.key_id.clone(),
            public_key: BASE64.encode(self.key.verifying_key().to_bytes()),
        }
    }

    /// Reads a `<id>.key` file.
    pub fn read(path: &Path) -> Result<SecretKey, KeyError> {
        SecretKey::from_file(&read_json(path)?, path)
    }

    /// Writes `<id>.key` readable by its owner only; never replaces a file.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(path.to_path_buf())
            } else {
                KeyError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        file.write_all(&to_json(&self.to_file()))
            .map_err(|source| KeyError::Io {
                path: path.to_path_buf(),
                source,
            })
    }
}

impl PublicKeyFile {
    pub fn read(path: &Path) -> Result<PublicKeyFile, KeyError> {
        read_json(path)
    }

    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        write_json(path, self)
    }

    /// The `[registry]` entry of hq.toml that trusts this key.
    pub fn trusted_key_toml(&self) -> String {
        format!(
            "{{ id = \"{}\", public_key = \"{}\" }}",
            self.key_id, self.public_key
        )
    }
}

impl SignatureFile {
    pub fn read(path: &Path) -> Result<SignatureFile, KeyError> {
        read_json(path)
    }

    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        write_json(path, self)
    }

    /// The `Chanhost-Signature` header value: `<key id>:<base64 signature>`.
    pub fn header(&self) -> String {
        format!("{}:{}", self.key_id, self.signature)
    }

    /// Whether this signature was made for `wasm` (by hash; says nothing
    /// about who signed it — that is [`verify`]'s job).
    pub fn is_for(&self, wasm: &[u8]) -> bool {
        self.sha256
            .eq_ignore_ascii_case(&hex::encode(Sha256::digest(wasm)))
    }
}

/// Signs a component.
pub fn sign(secret: &SecretKey, wasm: &[u8]) -> SignatureFile {
    let digest = Sha256::digest(wasm);
    let signature = secret.key.sign(&signed_message(&digest.into()));
    SignatureFile {
        key_id: secret.key_id.clone(),
        sha256: hex::encode(digest),
        signature: BASE64.encode(signature.to_bytes()),
    }
}

/// A `Chanhost-Signature` header split into its key id and signature.
pub fn parse_header(header: &str) -> Result<(String, Signature), SignatureError> {
    let (key_id, signature) = header
        .trim()
        .split_once(':')
        .ok_or_else(|| SignatureError::Malformed("no `:` between key id and signature".into()))?;
    if check_key_id(key_id).is_err() {
        return Err(SignatureError::Malformed(format!(
            "`{}` is not a key id",
            abbreviate(key_id)
        )));
    }
    let bytes: [u8; 64] = decode_fixed(signature)
        .map_err(|reason| SignatureError::Malformed(format!("signature {reason}")))?;
    Ok((key_id.to_string(), Signature::from_bytes(&bytes)))
}

/// Checks an uploaded component's signature header against the keys HQ
/// trusts; the id of the key that signed it.
pub fn verify(
    trusted: &[TrustedKey],
    wasm: &[u8],
    header: Option<&str>,
) -> Result<String, SignatureError> {
    let header = match header {
        Some(header) if !header.trim().is_empty() => header,
        _ => return Err(SignatureError::Unsigned),
    };
    let (key_id, signature) = parse_header(header)?;
    let Some(trusted_key) = trusted.iter().find(|key| key.id == key_id) else {
        return Err(SignatureError::UntrustedKey(key_id));
    };
    // hq.toml's keys are checked when it loads (check_trusted_keys); a key
    // that still does not parse cannot vouch for anything.
    let Ok(public_key) = verifying_key(trusted_key) else {
        return Err(SignatureError::UntrustedKey(key_id));
    };
    let message = signed_message(&Sha256::digest(wasm).into());
    public_key
        .verify_strict(&message, &signature)
        .map_err(|_| SignatureError::Invalid {
            key_id: key_id.clone(),
        })?;
    Ok(key_id)
}

/// Checks that every trusted key has a usable id and a 32-byte ed25519
/// public key, and that no id is listed twice; the problem otherwise.
pub fn check_trusted_keys(trusted: &[TrustedKey]) -> Result<(), String> {
    for (i, key) in trusted.iter().enumerate() {
        check_key_id(&key.id).map_err(|err| err.to_string())?;
        verifying_key(key).map_err(|reason| format!("trusted key `{}`: {reason}", key.id))?;
        if trusted[..i].iter().any(|other| other.id == key.id) {
            return Err(format!("trusted key `{}` is listed twice", key.id));
        }
    }
    Ok(())
}

fn verifying_key(key: &TrustedKey) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] =
        decode_fixed(&key.public_key).map_err(|reason| format!("public_key {reason}"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "public_key is not an ed25519 point".to_string())
}

fn signed_message(digest: &[u8; 32]) -> Vec<u8> {
    [SIGNED_CONTEXT, digest.as_slice()].concat()
}

fn check_key_id(key_id: &str) -> Result<(), KeyError> {
    let usable = !key_id.is_empty()
        && key_id.len() <= MAX_KEY_ID_LEN
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !key_id.starts_with('.');
    if usable {
        Ok(())
    } else {
        Err(KeyError::BadKeyId(abbreviate(key_id)))
    }
}

/// Base64 of exactly N bytes.
fn decode_fixed<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = BASE64
        .decode(text.trim())
        .map_err(|err| format!("is not base64 ({err})"))?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| format!("is {len} bytes, not {N}"))
}

/// Untrusted text quoted back in a message, cut short.
fn abbreviate(text: &str) -> String {
    match text.char_indices().nth(MAX_KEY_ID_LEN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|err| KeyError::Format {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(value).expect("key files serialize");
    json.push(b'\n');
    json
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), KeyError> {
    std::fs::write(path, to_json(value)).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WASM: &[u8] = b"\0asm\x0d\0\x01\0 a component, as far as signing cares";

    fn trust(secret: &SecretKey) -> TrustedKey {
        let public = secret.public();
        TrustedKey {
            id: public.key_id,
            public_key: public.public_key,
        }
    }

    #[test]
    fn a_signed_component_verifies_with_the_trusted_key() {
        let secret = SecretKey::generate("publisher-a").unwrap();
        let signature = sign(&secret, WASM);
        assert!(signature.is_for(WASM));
        assert_eq!(signature.sha256, hex::encode(Sha256::digest(WASM)));
        let other = SecretKey::generate("publisher-b").unwrap();
        let trusted = [trust(&other), trust(&secret)];
        assert_eq!(
            verify(&trusted, WASM, Some(&signature.header())),
            Ok("publisher-a".to_string())
        );
    }

    #[test]
    fn key_and_signature_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let secret = SecretKey::generate("round-trip").unwrap();
        let key_path = dir.path().join("round-trip.key");
        secret.write_new(&key_path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            secret.write_new(&key_path),
            Err(KeyError::Exists(_))
        ));
        let read = SecretKey::read(&key_path).unwrap();
        assert_eq!(read.to_file(), secret.to_file());

        let pub_path = dir.path().join("round-trip.pub");
        secret.public().write(&pub_path).unwrap();
        assert_eq!(PublicKeyFile::read(&pub_path).unwrap(), secret.public());

        let sig_path = dir.path().join("c.wasm.sig");
        let signature = sign(&read, WASM);
        signature.write(&sig_path).unwrap();
        let signature = SignatureFile::read(&sig_path).unwrap();
        assert_eq!(
            verify(&[trust(&secret)], WASM, Some(&signature.header())),
            Ok("round-trip".to_string())
        );
    }

    #[test]
    fn one_changed_byte_invalidates_the_signature() {
        let secret = SecretKey::generate("publisher-a").unwrap();
        let header = sign(&secret, WASM).header();
        let mut tampered = WASM.to_vec();
        tampered[20] ^= 1;
        let err = verify(&[trust(&secret)], &tampered, Some(&header)).unwrap_err();
        assert_eq!(
            err,
            SignatureError::Invalid {
                key_id: "publisher-a".into()
            }
        );
        assert!(err.to_string().contains("altered after signing"), "{err}");
    }

    #[test]
    fn a_signature_by_another_key_of_the_same_id_is_invalid() {
        let real = SecretKey::generate("publisher-a").unwrap();
        let impostor = SecretKey::generate("publisher-a").unwrap();
        let header = sign(&impostor, WASM).header();
        assert_eq!(
            verify(&[trust(&real)], WASM, Some(&header)),
            Err(SignatureError::Invalid {
                key_id: "publisher-a".into()
            })
        );
    }

    #[test]
    fn an_unknown_key_id_is_untrusted() {
        let trusted = SecretKey::generate("publisher-a").unwrap();
        let stranger = SecretKey::generate("stranger").unwrap();
        let err = verify(
            &[trust(&trusted)],
            WASM,
            Some(&sign(&stranger, WASM).header()),
        )
        .unwrap_err();
        assert_eq!(err, SignatureError::UntrustedKey("stranger".into()));
        assert!(
            err.to_string()
                .contains("`stranger`, which HQ does not trust"),
            "{err}"
        );
        // No trusted keys at all: nothing is trusted.
        assert_eq!(
            verify(&[], WASM, Some(&sign(&trusted, WASM).header())),
            Err(SignatureError::UntrustedKey("publisher-a".into()))
        );
    }

    #[test]
    fn malformed_headers_are_named_as_such() {
        let secret = SecretKey::generate("publisher-a").unwrap();
        let trusted = [trust(&secret)];
        let signature = sign(&secret, WASM).signature;
        for header in [
            "no-colon-here".to_string(),
            format!(":{signature}"),
            format!("bad id:{signature}"),
            "publisher-a:not base64!".to_string(),
            format!("publisher-a:{}", BASE64.encode([0u8; 32])),
        ] {
            let err = verify(&trusted, WASM, Some(&header)).unwrap_err();
            assert!(
                matches!(err, SignatureError::Malformed(_)),
                "{header}: {err:?}"
            );
            assert!(err.to_string().contains("<key id>:<base64 signature>"));
        }
    }

    #[test]
    fn no_header_means_unsigned() {
        let secret = SecretKey::generate("publisher-a").unwrap();
        for header in [None, Some(""), Some("  ")] {
            let err = verify(&[trust(&secret)], WASM, header).unwrap_err();
            assert_eq!(err, SignatureError::Unsigned);
            assert!(err.to_string().contains("unsigned"));
        }
    }

    #[test]
    fn key_ids_are_short_names() {
        for good in ["demo-publisher", "hq.release_2026", "a"] {
            assert!(SecretKey::generate(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "has space",
            "colon:id",
            ".hidden",
            "../escape",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(SecretKey::generate(bad), Err(KeyError::BadKeyId(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn trusted_keys_are_checked() {
        let secret = SecretKey::generate("publisher-a").unwrap();
        assert_eq!(check_trusted_keys(&[trust(&secret)]), Ok(()));
        let short = TrustedKey {
            id: "short".into(),
            public_key: BASE64.encode([1u8; 16]),
        };
        assert!(
            check_trusted_keys(&[short])
                .unwrap_err()
                .contains("16 bytes, not 32")
        );
        assert!(
            check_trusted_keys(&[trust(&secret), trust(&secret)])
                .unwrap_err()
                .contains("listed twice")
        );
    }
}
