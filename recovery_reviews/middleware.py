"""Headers and session rules every signed-in response carries (docs/design.md, Access and audit).

- ``no_store``: a page or export shown to someone signed in holds patient data, so no browser or proxy may keep
  a copy of it (``Cache-Control: no-store``, and ``Pragma: no-cache`` for HTTP/1.0 caches), unless the view set
  its own Cache-Control. Static files are served by WhiteNoise before this runs and keep their caching.
"""

from django.http import HttpRequest, HttpResponse


def no_store(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response

    return middleware
