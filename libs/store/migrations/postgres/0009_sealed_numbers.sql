-- Sealed caller numbers: a binding keeps its number encrypted (`phone_number`, sealed by the
-- store like transcript text) and is found by its blind index (`number_index`, an HMAC of the
-- normalised number under the index key), which also keeps a number bound once. SQL cannot
-- compute either: existing rows keep their number as a provisional index, and the store seals
-- them and computes their index when it opens with its keys (see `callers.rs`); until then
-- they are found by nothing.
ALTER TABLE caller_identities ADD COLUMN number_index TEXT;
UPDATE caller_identities SET number_index = 'unsealed:' || phone_number;
ALTER TABLE caller_identities DROP CONSTRAINT caller_identities_pkey;
ALTER TABLE caller_identities ALTER COLUMN number_index SET NOT NULL;
ALTER TABLE caller_identities ADD PRIMARY KEY (number_index);
