// Open MPI's handles are macros that take the address of a global (e.g.
// `#define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)`),
// which Swift cannot import. Each is exposed here as a static inline getter.
#ifndef RINGWATT_CMPI_SHIM_H
#define RINGWATT_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm rw_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm rw_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Datatype rw_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype rw_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype rw_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype rw_int64(void) { return MPI_INT64_T; }
static inline MPI_Op rw_op_sum(void) { return MPI_SUM; }
static inline MPI_Op rw_op_max(void) { return MPI_MAX; }
static inline MPI_Op rw_op_min(void) { return MPI_MIN; }
static inline MPI_Errhandler rw_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *rw_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *rw_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *rw_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }
static inline MPI_Request rw_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Info rw_info_null(void) { return MPI_INFO_NULL; }
static inline int rw_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int rw_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int rw_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int rw_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }

// Open MPI's ring all-reduce (coll/base; what `--mca coll_tuned_use_dynamic_rules 1
// --mca coll_tuned_allreduce_algorithm 4` selects), called directly so it can be timed in the
// same run as everything else. An exported symbol of libmpi, not part of the MPI standard: other
// MPI libraries get MPI_ERR_UNSUPPORTED_OPERATION. The module argument is unused by the ring
// (and by the recursive doubling it falls back to for fewer elements than ranks).
#if defined(OPEN_MPI) && OPEN_MPI && defined(OMPI_MAJOR_VERSION) && OMPI_MAJOR_VERSION >= 2
#if OMPI_MAJOR_VERSION >= 5
typedef size_t rw_ompi_count_t;
#else
typedef int rw_ompi_count_t;
#endif
int ompi_coll_base_allreduce_intra_ring(const void *sbuf, void *rbuf, rw_ompi_count_t count,
                                        MPI_Datatype dtype, MPI_Op op, MPI_Comm comm, void *module);
static inline int rw_has_ompi_ring(void) { return 1; }
static inline int rw_ompi_ring_allreduce(void *buffer, int count, MPI_Datatype dtype, MPI_Op op, MPI_Comm comm) {
    return ompi_coll_base_allreduce_intra_ring(MPI_IN_PLACE, buffer, (rw_ompi_count_t)count, dtype, op, comm, NULL);
}
#else
static inline int rw_has_ompi_ring(void) { return 0; }
static inline int rw_ompi_ring_allreduce(void *buffer, int count, MPI_Datatype dtype, MPI_Op op, MPI_Comm comm) {
    (void)buffer; (void)count; (void)dtype; (void)op; (void)comm;
    return MPI_ERR_UNSUPPORTED_OPERATION;
}
#endif

#endif
