"""The web front end: `graphlang serve` (a local playground on Starlette + uvicorn, the optional
`graphlang[web]` extra) and `graphlang html` (one self-contained lesson page).

`compute` decides which JSON of `present/jsonout.py` answers a request (the CLI's own objects);
`pool` evaluates in worker processes under time and memory limits; `layout` places the graph's
boxes; `page` fills the one page template (`static/`); `app` is the ASGI server. Only `app` needs
the web extra: `graphlang html` works with the core install.

Layer: the top (beside `cli`, which imports it inside the serve and html commands); imports
anything below.
"""
