"""HTTP endpoints, one file per resource; thin: parse, authorise, call a service, shape."""

from app.schemas.common import ErrorResponse

# Documented on every authenticated route so the OpenAPI schema shows the error shape.
ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorResponse, "description": "No valid access token"},
    403: {"model": ErrorResponse, "description": "The role may not do this"},
    422: {"model": ErrorResponse, "description": "Invalid input, field by field"},
}
NOT_FOUND: dict[int | str, dict] = {
    404: {"model": ErrorResponse, "description": "Not found in your area"},
}
