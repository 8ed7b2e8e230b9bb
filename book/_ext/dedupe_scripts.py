"""Drop the second copy of inline scripts that Sphinx 7.4 lists twice (sphinx-doc/sphinx#13402, fixed in 8.2).

Jupyter Book 1.x pins Sphinx 7, so the duplicate would otherwise raise a JavaScript error on every page.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (js.filename or "", tuple(sorted(js.attributes.items())), js.priority)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"][:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
