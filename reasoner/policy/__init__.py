"""Policy documents and requests as data: the pydantic document model, condition operators,
request inputs, patterns and typed values, principal forms and the AWS action catalogue. The
lowest layer: it imports nothing else of the package but `reasoner.errors`."""
