/* A stand-in bcryptprimitives.dll for running rdpl's Windows tests under Wine (scripts/wine-test builds it
   into the Wine prefix; it is never shipped).

   Why: Rust >= 1.78's std imports ProcessPrng from bcryptprimitives.dll for its random numbers, and Wine
   only has that DLL since 8.13. Debian 12 ships Wine 8.0, where every Rust .exe then fails to load
   ("Library bcryptprimitives.dll ... not found", exit status 53). This implements ProcessPrng on top of
   RtlGenRandom (SystemFunction036 in advapi32), which Wine 8.0 has. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len); /* RtlGenRandom, advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
