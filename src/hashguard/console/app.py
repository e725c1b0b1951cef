"""Putting the console on the app: its routes, its static files, its state."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hashguard.console import admin, lead, pages, reports, stats
from hashguard.console.state import HERE, Console
from hashguard.review.options import ReviewOptions
from hashguard.review.sealing import KeyRing
from hashguard.store.store import Store


def install(app: FastAPI, store: Store, options: ReviewOptions) -> Console:
    ring = KeyRing.load(options.keys_file) if options.keys_file else None
    console = app.state.console = Console(store, options, ring)
    app.include_router(pages.router)
    app.include_router(lead.router)
    app.include_router(reports.router)
    app.include_router(stats.router)
    app.include_router(admin.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    return console
