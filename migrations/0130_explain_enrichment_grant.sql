-- `sxe explain` runs as sxe_api and lists a card's enrichment decisions. The rows hold
-- ids, providers, reasons and request fingerprints, never contact data; sxe_analyst
-- could already read them.
GRANT SELECT ON ops.enrichment_decisions TO sxe_api;
