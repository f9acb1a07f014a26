//! Integration tests: the real server on a random port, a fresh database
//! per test, HTTP only. Run against PostgreSQL with `GATEHOUSE_TEST_DB=postgres`.

mod api;
mod helpers;
mod pages;
mod sessions;
