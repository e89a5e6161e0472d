/* Placeholder: the versioned C ABI between the plugin shim and Swift. */
#ifndef QUBEMEM_ABI_H
#define QUBEMEM_ABI_H
#define QUBEMEM_ABI_VERSION 1
#endif
