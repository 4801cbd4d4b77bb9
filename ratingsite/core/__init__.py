"""The foundation every app builds on: owned rows and their collaborators (`Owned`, `Authored`), storage,
lookups, form and view mixins, request-size limits and template filters. It imports no app but accounts."""
