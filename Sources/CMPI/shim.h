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

#endif
