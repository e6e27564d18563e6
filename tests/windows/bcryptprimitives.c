/* TEST-ONLY shim for Wine < 8.13 (Debian 12 ships 8.0), never shipped: Rust >= 1.78's std
 * imports ProcessPrng from bcryptprimitives.dll, which those Wine versions lack, so every Rust
 * exe exits with status 53 before main. This DLL provides ProcessPrng on top of RtlGenRandom
 * (advapi32's SystemFunction036). Built from source by tests/windows/wine-prefix.sh into the
 * test prefix only. Real Windows (8.1 and later) has the real DLL. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len) {
        ULONG chunk = len > 0xffffffffu ? 0xffffffffu : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
