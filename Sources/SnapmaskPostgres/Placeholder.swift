import Snapmask
