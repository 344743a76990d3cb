/* A strict reader of safetensors files (Hugging Face's format): an 8-byte
 * little-endian header length N, N bytes of JSON, then the raw tensor bytes.
 * The header maps each tensor name to {"dtype", "shape", "data_offsets"}
 * (offsets relative to the data section) and may hold "__metadata__", an
 * object of strings.
 *
 * Everything is checked before use: the header length against the file, the
 * JSON grammar, every number, dtype (F32 only), shape products and offsets
 * (within the data, matching the shape, not overlapping, covering the data
 * with no gap), duplicate names. A corrupt or hostile file gives one message
 * and no tensors; nothing is read outside the bytes given. */
#ifndef ST_SAFETENSORS_H
#define ST_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_TENSOR_MAX_DIMS 8

typedef struct {
    char *name;
    int n_dims;
    int64_t shape[ST_TENSOR_MAX_DIMS];
    int64_t n_elems;
    float *data; /* its own aligned copy, host order */
} st_tensor;

/* Owns the tensors and the metadata strings. */
typedef struct {
    int n_tensors;
    st_tensor *tensor;
    int n_meta;
    char **meta_key, **meta_value;
} st_safetensors;

/* Parses size bytes. 0, or -1 with the reason in error. */
int st_safetensors_parse(const unsigned char *bytes, size_t size, st_safetensors **out, char *error,
                         size_t error_size);
/* Reads and parses a file (at most 1 GB). 0, or -1 with "PATH: reason" in error. */
int st_safetensors_read(const char *path, st_safetensors **out, char *error, size_t error_size);
void st_safetensors_free(st_safetensors *s);

/* The tensor called name, or NULL. */
const st_tensor *st_safetensors_find(const st_safetensors *s, const char *name);
/* The tensor called name with n_dims dimensions of the given shape (a
 * negative entry: any size) and finite values, or NULL with the reason
 * (missing, its shape and the expected one, not finite) in error. */
const st_tensor *st_safetensors_need(const st_safetensors *s, const char *name, int n_dims,
                                     const int64_t *shape, char *error, size_t size);
/* The metadata value of key, or NULL. */
const char *st_safetensors_meta(const st_safetensors *s, const char *key);

#endif
