"""Settings: precedence flags > environment > file > defaults, and clear errors for bad values."""

from __future__ import annotations

import pytest

from paperfeed.config import SETTINGS, load_settings
from paperfeed.errors import ConfigError


def test_flags_beat_environment_beat_file_beat_defaults(tmp_path):
    config = tmp_path / "paperfeed.toml"
    config.write_text('port = 7000\nhost = "0.0.0.0"\nhttp_timeout_s = 5\n')
    env = {"PAPERFEED_PORT": "7500", "PAPERFEED_HOST": "10.0.0.1", "PAPERFEED_CONFIG": str(config)}
    settings = load_settings({"port": 9000}, environ=env)
    assert settings.port == 9000 and settings.origins["port"] == "flag"
    assert settings.host == "10.0.0.1" and settings.origins["host"] == "environment"
    assert settings.http_timeout_s == 5.0 and settings.origins["http_timeout_s"] == "file"
    assert (
        settings.arxiv_min_interval_s == 3.0
        and settings.origins["arxiv_min_interval_s"] == "default"
    )


def test_database_defaults_to_sqlite_inside_home(tmp_path):
    settings = load_settings(environ={"PAPERFEED_HOME": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'paperfeed.db'}"


def test_config_file_in_home_is_read_by_default(tmp_path):
    (tmp_path / "paperfeed.toml").write_text("ingest_batch_size = 50\n")
    settings = load_settings(environ={"PAPERFEED_HOME": str(tmp_path)})
    assert settings.ingest_batch_size == 50


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PAPERFEED_PORT": "eighty"}, "port (PAPERFEED_PORT): 'eighty' is not a valid int"),
        ({"PAPERFEED_PORT": "70000"}, "port (PAPERFEED_PORT): must be a TCP port"),
        ({"PAPERFEED_HTTP_TIMEOUT_S": "0"}, "http_timeout_s (PAPERFEED_HTTP_TIMEOUT_S): must be"),
        ({"PAPERFEED_LOG_LEVEL": "LOUD"}, "log_level (PAPERFEED_LOG_LEVEL): must be DEBUG"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(environ, message):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(environ=environ)
    assert message in str(excinfo.value)


def test_unknown_or_broken_config_file_is_refused(tmp_path):
    config = tmp_path / "paperfeed.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(environ={"PAPERFEED_CONFIG": str(config)})
    config.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"PAPERFEED_CONFIG": str(config)})


def test_every_setting_has_help_and_an_environment_name():
    for setting in SETTINGS:
        assert setting.help.endswith("."), setting.name
        assert setting.env_var == "PAPERFEED_" + setting.name.upper()
