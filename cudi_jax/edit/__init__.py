"""``cudi edit``: paint an exposure map on a photo in the browser, with a live preview.

Needs the ``[edit]`` extra (Starlette and uvicorn) to serve the page; nothing here is
imported by ``cudi enhance`` or the runtime. Modules: :mod:`~cudi_jax.edit.command`
(the command line), :mod:`~cudi_jax.edit.server` (the ASGI app),
:mod:`~cudi_jax.edit.session` (the state of one photo), :mod:`~cudi_jax.edit.brush`
(the soft brush) and :mod:`~cudi_jax.edit.adapter` (the only calls into the runtime);
the page itself is ``static/`` (plain HTML, CSS and JavaScript, no build step).
"""
