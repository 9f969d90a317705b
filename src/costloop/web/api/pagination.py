"""Offset pagination of API lists: ``?limit=&offset=`` in, ``items/total/next`` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "PageParams", "page_of", "page_params"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")


class PageParams(BaseModel):
    """The page a client asked for."""

    limit: int
    offset: int


def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")] = 0,
) -> PageParams:
    """FastAPI dependency: the ``limit`` and ``offset`` query parameters."""
    return PageParams(limit=limit, offset=offset)


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total and the URL of the next page (null on the last)."""

    items: list[T]
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last one.")


def page_of(items: Sequence[T], params: PageParams, request: Request) -> Page[T]:
    """Cut one page out of the full, ordered list ``items``."""
    total = len(items)
    end = params.offset + params.limit
    following = None
    if end < total:
        following = str(request.url.include_query_params(limit=params.limit, offset=end))
    return Page[T](
        items=list(items[params.offset : end]),
        total=total,
        limit=params.limit,
        offset=params.offset,
        next=following,
    )
