/* Keel is one static image: every symbol binds locally, so -fpie code uses
 * plain RIP-relative addressing and no GOT. */
#pragma GCC visibility push(hidden)
