//! `pyralog._pyralog`: the native module under the pure-Python `pyralog`
//! package. Conversion, error mapping and runtime bridging only; every
//! behaviour lives in the core client.

mod bridge;
mod client;
mod consumer;
mod delivery;
mod producer;
mod types;

use pyo3::prelude::*;

#[pymodule]
fn _pyralog(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The package compares it with its own version at import.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::_Client>()?;
    m.add_class::<producer::Producer>()?;
    m.add_class::<consumer::Consumer>()?;
    m.add_class::<delivery::Delivery>()?;
    m.add_class::<types::Record>()?;
    m.add_class::<types::RecordMetadata>()?;
    m.add_class::<types::LogMetadata>()?;
    m.add_class::<types::PartitionMetadata>()?;
    m.add_class::<types::LogConfig>()?;
    m.add_class::<types::LogStats>()?;
    m.add_class::<types::PartitionStats>()?;
    m.add_class::<types::LogPartition>()?;
    m.add_function(wrap_pyfunction!(bridge::_register_errors, m)?)?;
    m.add_function(wrap_pyfunction!(bridge::error_codes, m)?)?;
    Ok(())
}
