/* LAPACK and OpenBLAS routines that the numerics use, declared once.
 *
 * OpenBLAS ships LAPACK with Fortran linkage and no C header that Debian's
 * libopenblas-dev installs under a stable name, so the prototypes live here.
 * Column-major, arguments by pointer, as Fortran passes them.
 */
#ifndef ST_LAPACK_H
#define ST_LAPACK_H

void openblas_set_num_threads(int n);

/* Cholesky: factor, pivoted factor, solve with the factor. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpstrf_(const char *uplo, const int *n, double *a, const int *lda, int *piv, int *rank,
             const double *tol, double *work, int *info);
void dpotrs_(const char *uplo, const int *n, const int *n_rhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info);
void dtrsm_(const char *side, const char *uplo, const char *transa, const char *diag, const int *m,
            const int *n, const double *alpha, const double *a, const int *lda, double *b,
            const int *ldb);

/* Singular value decomposition (divide and conquer), single and double. */
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info);

/* Symmetric eigenproblem (divide and conquer), single and double. */
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

/* Selected eigenpairs of a symmetric matrix (relatively robust representations). */
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
             const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
             const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

/* QR factorisation and forming Q (randomised range finders). */
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work,
             const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau,
             float *work, const int *lwork, int *info);

#endif
