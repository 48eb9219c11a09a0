// Cities.swift
extension Dictionaries {
    /// City names from around the world, ASCII spelling; may contain spaces.
    static let cities: [String] = words(#"""
    Aarhus
    Aberdeen
    Abidjan
    Abu Dhabi
    Abuja
    Accra
    Addis Ababa
    Adelaide
    Ahmedabad
    Akron
    Albany
    Albuquerque
    Alexandria
    Algiers
    Alicante
    Almaty
    Amarillo
    Amman
    Amsterdam
    Anaheim
    Anchorage
    Ankara
    Ann Arbor
    Annapolis
    Antalya
    Antananarivo
    Antwerp
    Apia
    Arlington
    Asheville
    Astana
    Asuncion
    Athens
    Atlanta
    Auckland
    Augusta
    Aurora
    Austin
    Baghdad
    Bakersfield
    Baku
    Baltimore
    Bamako
    Bandung
    Bangalore
    Bangkok
    Barcelona
    Bari
    Basel
    Baton Rouge
    Beijing
    Beirut
    Belfast
    Belgrade
    Bellingham
    Belo Horizonte
    Bergen
    Berkeley
    Berlin
    Bern
    Bhopal
    Bilbao
    Billings
    Birmingham
    Bishkek
    Bogota
    Boise
    Bologna
    Bordeaux
    Boston
    Boulder
    Bozeman
    Brasilia
    Bratislava
    Bremen
    Brighton
    Brisbane
    Bristol
    Brno
    Bruges
    Brussels
    Bucharest
    Budapest
    Buenos Aires
    Buffalo
    Burlington
    Bursa
    Busan
    Cairo
    Calgary
    Cali
    Cambridge
    Canberra
    Cancun
    Cape Town
    Caracas
    Cardiff
    Cartagena
    Casablanca
    Cebu
    Chandigarh
    Chandler
    Charleston
    Charlotte
    Chattanooga
    Chengdu
    Chennai
    Chesapeake
    Cheyenne
    Chiang Mai
    Chicago
    Chisinau
    Chittagong
    Chongqing
    Christchurch
    Chula Vista
    Cincinnati
    Cleveland
    Cluj Napoca
    Coimbra
    Cologne
    Colombo
    Colorado Springs
    Columbia
    Columbus
    Concord
    Copenhagen
    Cordoba
    Cork
    Cotonou
    Curitiba
    Cusco
    Da Nang
    Daegu
    Daejeon
    Dakar
    Dallas
    Damascus
    Dar es Salaam
    Darwin
    Davao
    Debrecen
    Delhi
    Denpasar
    Denver
    Des Moines
    Detroit
    Dhaka
    Dijon
    Doha
    Douala
    Dover
    Dresden
    Dubai
    Dublin
    Duluth
    Dundee
    Dunedin
    Durban
    Durham
    Dusseldorf
    Edinburgh
    Edmonton
    Eindhoven
    El Paso
    Espoo
    Eugene
    Fargo
    Faro
    Fayetteville
    Fez
    Florence
    Florianopolis
    Fontana
    Fort Wayne
    Fort Worth
    Fortaleza
    Frankfurt
    Freiburg
    Fremont
    Fresno
    Fukuoka
    Gaborone
    Galway
    Garland
    Gdansk
    Geneva
    Genoa
    Ghent
    Gilbert
    Glasgow
    Glendale
    Gold Coast
    Gothenburg
    Granada
    Grand Prairie
    Grand Rapids
    Graz
    Greensboro
    Grenoble
    Groningen
    Guadalajara
    Guangzhou
    Guatemala City
    Guayaquil
    Gwangju
    Haifa
    Halifax
    Hamburg
    Hamilton
    Hangzhou
    Hanoi
    Hanover
    Harare
    Harbin
    Harrisburg
    Hartford
    Havana
    Heidelberg
    Helsinki
    Henderson
    Heraklion
    Hialeah
    Hiroshima
    Ho Chi Minh City
    Hobart
    Hong Kong
    Honolulu
    Houston
    Hue
    Huntington Beach
    Huntsville
    Hyderabad
    Ibadan
    Incheon
    Indianapolis
    Indore
    Innsbruck
    Inverness
    Irvine
    Irving
    Isfahan
    Islamabad
    Istanbul
    Izmir
    Jacksonville
    Jaipur
    Jakarta
    Jeddah
    Jersey City
    Jerusalem
    Johannesburg
    Juneau
    Kabul
    Kampala
    Kandy
    Kansas City
    Kaohsiung
    Karachi
    Kathmandu
    Kaunas
    Kazan
    Kelowna
    Kharkiv
    Khartoum
    Kigali
    Kingston
    Kinshasa
    Knoxville
    Kobe
    Kochi
    Kolkata
    Krakow
    Kuala Lumpur
    Kumasi
    Kunming
    Kuwait City
    Kyiv
    Kyoto
    La Paz
    Lagos
    Lahore
    Laredo
    Las Vegas
    Lausanne
    Leeds
    Leicester
    Leipzig
    Lexington
    Lille
    Lima
    Limerick
    Lincoln
    Lisbon
    Little Rock
    Liverpool
    Ljubljana
    Lodz
    Lome
    London
    Long Beach
    Los Angeles
    Louisville
    Luanda
    Lubbock
    Lucerne
    Lucknow
    Lusaka
    Luxembourg
    Lviv
    Lyon
    Macau
    Madison
    Madrid
    Malaga
    Male
    Malmo
    Managua
    Manama
    Manaus
    Manchester
    Mandalay
    Manila
    Maputo
    Marrakesh
    Marseille
    Medellin
    Melbourne
    Memphis
    Mendoza
    Merida
    Mesa
    Mexico City
    Miami
    Milan
    Milwaukee
    Minneapolis
    Minsk
    Missoula
    Modesto
    Mombasa
    Monterey
    Monterrey
    Montevideo
    Montgomery
    Montpelier
    Montpellier
    Montreal
    Moreno Valley
    Moscow
    Mumbai
    Munich
    Muscat
    Mysore
    Nagoya
    Nagpur
    Nairobi
    Nanjing
    Nantes
    Naples
    Nara
    Nashville
    New Orleans
    New York
    Newark
    Newcastle
    Newcastle upon Tyne
    Nice
    Nicosia
    Norfolk
    Nottingham
    Novosibirsk
    Nuremberg
    Oakland
    Oaxaca
    Odense
    Odesa
    Okinawa
    Oklahoma City
    Olympia
    Omaha
    Orlando
    Osaka
    Oslo
    Ottawa
    Overland Park
    Oxford
    Oxnard
    Palermo
    Palma
    Palo Alto
    Panama City
    Paris
    Pasadena
    Patras
    Penang
    Perth
    Philadelphia
    Phnom Penh
    Phoenix
    Phuket
    Pisa
    Pittsburgh
    Plano
    Plovdiv
    Port Louis
    Portland
    Porto
    Porto Alegre
    Portsmouth
    Poznan
    Prague
    Pretoria
    Providence
    Puebla
    Pune
    Qingdao
    Quebec City
    Queenstown
    Queretaro
    Quito
    Rabat
    Raleigh
    Recife
    Regina
    Rennes
    Reno
    Reykjavik
    Richmond
    Riga
    Rio de Janeiro
    Riyadh
    Rochester
    Rome
    Rosario
    Rotterdam
    Sacramento
    Saint Paul
    Saint Petersburg
    Salem
    Salt Lake City
    Salvador
    Salzburg
    Samarkand
    San Antonio
    San Bernardino
    San Diego
    San Francisco
    San Jose
    San Juan
    San Salvador
    Santa Barbara
    Santa Clarita
    Santa Fe
    Santiago
    Santo Domingo
    Sao Paulo
    Sapporo
    Sarajevo
    Saskatoon
    Savannah
    Scottsdale
    Seattle
    Sendai
    Seoul
    Seville
    Shanghai
    Sheffield
    Shenzhen
    Shiraz
    Singapore
    Sioux Falls
    Skopje
    Sofia
    Southampton
    Split
    Spokane
    Springfield
    Stavanger
    Stockholm
    Stockton
    Strasbourg
    Stuttgart
    Surabaya
    Surat
    Suva
    Suzhou
    Swansea
    Sydney
    Syracuse
    Tacoma
    Taichung
    Taipei
    Tallahassee
    Tallinn
    Tampa
    Tampere
    Tashkent
    Tbilisi
    Tegucigalpa
    Tehran
    Tel Aviv
    The Hague
    Thessaloniki
    Thimphu
    Tianjin
    Tijuana
    Timisoara
    Tokyo
    Toledo
    Toronto
    Toulouse
    Trenton
    Trieste
    Tripoli
    Trondheim
    Tucson
    Tulsa
    Tunis
    Turin
    Turku
    Ulaanbaatar
    Uppsala
    Utrecht
    Valencia
    Valletta
    Valparaiso
    Vancouver
    Venice
    Verona
    Victoria
    Vienna
    Vientiane
    Vilnius
    Virginia Beach
    Vladivostok
    Warsaw
    Washington
    Wellington
    Wichita
    Windhoek
    Winnipeg
    Winston Salem
    Worcester
    Wroclaw
    Wuhan
    Xiamen
    Xian
    Yangon
    Yaounde
    Yekaterinburg
    Yerevan
    Yogyakarta
    Yokohama
    Yonkers
    Zagreb
    Zanzibar
    Zaragoza
    Zurich
    """#)
}
