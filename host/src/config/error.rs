//! Configuration errors that say where: file, line and column or field.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {field}: {message}", path.display())]
    Field {
        path: PathBuf,
        field: String,
        message: String,
    },
    /// A plugin rejected its configuration; one entry per problem.
    #[error("{}:{line}: [{table}] rejected by plugin {plugin}:\n{}", path.display(),
        problems.iter().map(|(p, m)| format!("  {table}.config{p}: {m}")).collect::<Vec<_>>().join("\n"))]
    PluginConfig {
        path: PathBuf,
        line: usize,
        table: String,
        plugin: String,
        problems: Vec<(String, String)>,
    },
    /// The plugin a slot names cannot be loaded.
    #[error("{}:{line}: [{table}] plugin {plugin}: {message}", path.display())]
    Plugin {
        path: PathBuf,
        line: usize,
        table: String,
        plugin: String,
        message: String,
    },
}

impl ConfigError {
    pub fn field(
        path: impl AsRef<Path>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::Field {
            path: path.as_ref().to_path_buf(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn toml(path: &Path, text: &str, err: toml::de::Error) -> Self {
        let (line, column) = err
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((0, 0));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().to_string(),
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}
