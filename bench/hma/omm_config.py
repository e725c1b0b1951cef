# OMM_CONFIG for the HMA benchmark target (Meta ThreatExchange/hasher-matcher-actioner).
# Production-like single instance: all three roles, no dev blueprint, no debug.
# Any key can be overridden by an OMM_<KEY> env var (HMA calls
# app.config.from_prefixed_env("OMM")); setup.sh uses that to run a separate
# 1-worker "cron" process (like reference_omm_configs/scaled_deployment_cron)
# that builds indices, since HMA warns not to run TASK_INDEXER in >1 worker.
import os
from logging.config import dictConfig

from OpenMediaMatch.storage.postgres.impl import DefaultOMMStore
from threatexchange.content_type.photo import PhotoContent
from threatexchange.content_type.video import VideoContent
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

DATABASE_URI = os.environ.get(
    "HMA_DATABASE_URI", "postgresql+psycopg2://postgres@127.0.0.1:5432/hma"
)

PRODUCTION = True  # no /dev blueprint
ROLE_HASHER = True
ROLE_MATCHER = True
ROLE_CURATOR = True
UI_ENABLED = False  # HTML UI not needed for the API benchmark

# Background tasks (APScheduler threads inside the app process):
TASK_FETCHER = False  # no external exchanges are configured; nothing to fetch
TASK_INDEXER = False  # run only in the separate 1-worker indexer process
TASK_INDEX_CACHE = True  # matcher role: each worker refreshes its in-memory index
# HMA defaults: indexer every 60 s, index cache refresh every 30 s, stale at 65 s
TASK_INDEXER_INTERVAL_SECONDS = 60
TASK_INDEX_CACHE_INTERVAL_SECONDS = 30

STORAGE_IFACE_INSTANCE = DefaultOMMStore(
    signal_types=[PdqSignal, VideoMD5Signal],
    content_types=[PhotoContent, VideoContent],
    exchange_types=[StaticSampleSignalExchangeAPI],
)

# INFO logging to stderr (as the reference configs do) so index builds/loads show in the log
dictConfig(
    {
        "version": 1,
        "formatters": {
            "default": {"format": "[%(asctime)s] %(levelname)s %(module)s: %(message)s"}
        },
        "handlers": {
            "wsgi": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
            }
        },
        "root": {"level": "INFO", "handlers": ["wsgi"]},
    }
)
