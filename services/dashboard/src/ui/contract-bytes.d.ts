// The contract types the dashboard reads by type (@pathwatch/schemas/types, through the path store's results) name
// Node's Buffer for Avro `bytes` fields. The browser program has no Node types and never receives those fields,
// so here Buffer is only the byte array it would be; a type, not a value (no Buffer.from in the browser).
type Buffer = Uint8Array;
