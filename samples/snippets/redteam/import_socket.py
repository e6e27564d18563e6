# redteam: open a socket
# expect: error ImportError
# message: allowed modules
import socket
result = socket.create_connection(('127.0.0.1', 1))
