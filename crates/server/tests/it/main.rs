//! Integration tests of the live sync server: a real server on
//! 127.0.0.1:0, real WebSocket clients, real session files in a temp home.

mod util;

mod auth;
mod live;
mod mirror;
mod requests;
mod web;
