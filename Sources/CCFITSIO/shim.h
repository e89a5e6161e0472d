// CFITSIO as a Swift module (Debian: libcfitsio-dev). Used by QubeMemInputs to read HEALPix masks.
#include <fitsio.h>
