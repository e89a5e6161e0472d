"""Writes the seeds of the `fits` fuzz target into fuzz/corpus/fits/ (committed; run again only to change them).

    python3 fuzz/inputs/fits_seeds.py

Tiny HEALPix masks as healpy writes them (a primary HDU, then a BINTABLE with one column per map
component), for nside 1, 2 and 4, RING and NESTED, float64 and float32, one to three columns; a
partial-sky nside 8 map (INDXSCHM EXPLICIT: a PIXEL column first); tables with an integer, a vector
and a string column; then truncated and corrupted copies, and the regression inputs of findings. Each file is 2880-byte blocks: a fuzz input is at most
scripts/fuzz.sh's -max_len for this target.
"""

import io
import warnings
from pathlib import Path

import healpy as hp
import numpy as np
from astropy.io import fits

OUT = Path(__file__).resolve().parents[1] / "corpus" / "fits"


def cap(nside, radians):
    theta, _ = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)))
    return (theta < radians).astype(np.float64)


def healpy_bytes(maps, **options):
    path = OUT / ".tmp.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hp.write_map(str(path), maps, overwrite=True, **options)
    data = path.read_bytes()
    path.unlink()
    return data


def table_bytes(columns):
    """A primary HDU and a BINTABLE of these astropy columns."""
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(columns)]).writeto(buffer)
    return buffer.getvalue()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = {}
    for nside in (1, 2, 4):
        t, p = cap(nside, 1.4), cap(nside, 1.1)
        seeds[f"n{nside}-T"] = healpy_bytes(t, dtype=np.float64)
        seeds[f"n{nside}-QU-f32"] = healpy_bytes([p, p], dtype=np.float32)
        seeds[f"n{nside}-TQU-nested"] = healpy_bytes([t, p, p], dtype=np.float64, nest=True)
    seeds["n2-QU-differ"] = healpy_bytes([cap(2, 1.1), cap(2, 0.5)], dtype=np.float32)
    seeds["n2-empty"] = healpy_bytes(np.zeros(48), dtype=np.float32)
    seeds["n8-partial"] = healpy_bytes(np.where(cap(8, 2.3) > 0, hp.UNSEEN, 1.0), dtype=np.float32,
                                       partial=True)
    seeds["n2-int-column"] = table_bytes([fits.Column(name="TEMPERATURE", format="J", array=np.ones(48, np.int32))])
    seeds["n1-repeat-vector"] = table_bytes([fits.Column(name="T", format="12D", array=np.ones((1, 12)))])
    seeds["n1-string-column"] = table_bytes([fits.Column(name="T", format="12A", array=np.array(["x" * 12]))])
    seeds["image-only"] = table_bytes([])[:2880]  # a primary HDU and nothing after it
    base = seeds["n2-QU-f32"]
    seeds["truncated-header"] = base[:4000]
    seeds["truncated-data"] = base[: len(base) - 2000]
    def card(key, value):  # a header value as FITS right-justifies it, to column 30
        return key.ljust(8).encode() + b"= " + str(value).rjust(20).encode()

    seeds["naxis2-huge"] = base.replace(card("NAXIS2", 48), card("NAXIS2", 999999999999))
    seeds["naxis2-negative"] = base.replace(card("NAXIS2", 48), card("NAXIS2", -48))
    seeds["tfields-9"] = base.replace(card("TFIELDS", 2), card("TFIELDS", 9))
    seeds["repeat-huge"] = seeds["n1-repeat-vector"].replace(b"'12D     '", b"'9999999D'")
    # Found by fuzzing: a small file whose header claims an nside-8192 map (805,306,368 rows) made
    # the reader allocate 6 GiB before CFITSIO could say the file ends (HealpixMaskTests).
    seeds["nside8192-truncated"] = seeds["n2-T"].replace(card("NAXIS2", 48), card("NAXIS2", 12 * 8192**2))
    # Found by fuzzing: an unquoted 70-character TTYPEn overflowed CFITSIO 4.2's 70-byte column
    # name (glibc's fortified strcpy aborted); the reader now refuses it first (HealpixMaskTests).
    ttype = b"TTYPE1  = 'Q_POLARISATION'".ljust(80)
    assert ttype in base
    seeds["ttype-unquoted-70"] = base.replace(ttype, b"TTYPE1  = " + b"x" * 70)
    assert all(seeds[k] != base for k in ("naxis2-huge", "naxis2-negative", "tfields-9"))
    assert seeds["repeat-huge"] != seeds["n1-repeat-vector"]
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
