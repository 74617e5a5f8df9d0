-- H3 parent cell from the int64 cell itself, so coarser heatmap resolutions need no extension.
-- Layout: resolution in bits 52-55; each finer digit is 3 bits set to 7 when unused.
-- Returns NULL when asked for a resolution finer than the cell's own.
CREATE OR REPLACE FUNCTION public.h3_parent(cell bigint, resolution integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN resolution BETWEEN 0 AND ((cell >> 52) & 15)::integer
        THEN ((cell & ~(15::bigint << 52)) | (resolution::bigint << 52))
             | ((1::bigint << (3 * (15 - resolution))) - 1)
    END
$$;

COMMENT ON FUNCTION public.h3_parent(bigint, integer) IS
    'Parent H3 cell at a coarser resolution, computed from the bit layout (int64 cells).';
